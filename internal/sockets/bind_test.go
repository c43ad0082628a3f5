package sockets

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/config"
	"golang.org/x/sys/unix"
)

func TestBindTCPSharesOneQueue(t *testing.T) {
	s, err := Bind(config.Listen{Name: "web", Network: "tcp", Address: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if strings.HasSuffix(s.Addr, ":0") {
		t.Fatalf("real port not reported: %s", s.Addr)
	}
	// A connection queues in the backlog before anyone accepts.
	c, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := Bind(config.Listen{Name: "web", Network: "tcp", Address: s.Addr}); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("second bind: %v", err)
	}
}

func TestUnixStaleReplacedLiveRefused(t *testing.T) {
	dir, _ := os.MkdirTemp("", "sk")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "a.sock")
	live, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Bind(config.Listen{Name: "a", Network: "unix", Address: path}); err == nil || !strings.Contains(err.Error(), "live process") {
		t.Fatalf("bind over a live socket: %v", err)
	}
	live.(*net.UnixListener).SetUnlinkOnClose(false)
	live.Close() // leaves a stale socket file
	s, err := Bind(config.Listen{Name: "a", Network: "unix", Address: path})
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	s.Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("socket file left behind")
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Bind(config.Listen{Name: "a", Network: "unix", Address: path}); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("bind over a file: %v", err)
	}
}

func TestNamesInOrder(t *testing.T) {
	names := Names([]*Socket{{Name: "web"}, {Name: "admin"}})
	if strings.Join(names, " ") != "web admin" {
		t.Fatalf("%v", names)
	}
	if Backlog() < 128 {
		t.Fatalf("backlog %d", Backlog())
	}
}

func TestUnixListenMode(t *testing.T) {
	dir := t.TempDir()
	for _, mode := range []os.FileMode{0o660, 0o600, 0o777} {
		path := filepath.Join(dir, "m.sock")
		s, err := Bind(config.Listen{Name: "a", Network: "unix", Address: path, Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		s.Close()
		if err != nil || st.Mode().Perm() != mode {
			t.Fatalf("mode %04o: got %v, %v", mode, st.Mode(), err)
		}
	}
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	path := filepath.Join(dir, "u.sock")
	s, err := Bind(config.Listen{Name: "a", Network: "unix", Address: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o700 {
		t.Fatalf("mode 0 must come from the umask: %v", st.Mode())
	}
}

// Close removes the socket file only while it is the one this master
// bound: never a file someone put there since.
func TestCloseRemovesOnlyItsOwnSocketFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.sock")
	s, err := Bind(config.Listen{Name: "a", Network: "unix", Address: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	other, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	s.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("another socket's file was removed: %v", err)
	}
}
