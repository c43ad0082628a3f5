package control

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindMasters(t *testing.T) {
	xdg, err := os.MkdirTemp("", "ctl")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(xdg)
	t.Setenv("XDG_RUNTIME_DIR", xdg)
	t.Setenv("BATON_CONTROL", "")
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Fatalf("mode %v", st.Mode())
	}
	if _, err := Find("", ""); !errors.Is(err, ErrNoMaster) {
		t.Fatalf("no master: %v", err)
	}
	a, err := Listen(SocketPath(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if p, err := Find("", ""); err != nil || p != SocketPath(dir, "a") {
		t.Fatalf("one master: %q %v", p, err)
	}
	if _, err := Listen(SocketPath(dir, "a")); err == nil || !strings.Contains(err.Error(), "another master") {
		t.Fatalf("second master with the same name: %v", err)
	}
	b, err := Listen(SocketPath(dir, "b"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := Find("", ""); !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), "a, b") {
		t.Fatalf("two masters: %v", err)
	}
	if p, err := Find("", "b"); err != nil || p != SocketPath(dir, "b") {
		t.Fatalf("by name: %q %v", p, err)
	}
	if _, err := Find("", "c"); !errors.Is(err, ErrNoMaster) {
		t.Fatalf("unknown name: %v", err)
	}
	// A stale socket (its master died) is replaced, not refused.
	stale, _ := net.Listen("unix", SocketPath(dir, "c"))
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	c, err := Listen(SocketPath(dir, "c"))
	if err != nil {
		t.Fatalf("stale socket: %v", err)
	}
	c.Close()
}

// TestFindSaysAControlPathIsNoSocket: a --control or BATON_CONTROL path
// that is a file or a directory is "no master" saying what is there, not
// a "connection refused" from connecting to it; a path where nothing is
// (or a socket) is left to connecting.
func TestFindSaysAControlPathIsNoSocket(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{file: "it is a regular file, not a socket", dir: "it is a directory, not a socket"} {
		if _, err := Find(path, ""); !errors.Is(err, ErrNoMaster) || !strings.Contains(err.Error(), want) {
			t.Errorf("Find(%s): %v, want no master saying %q", path, err, want)
		}
		t.Setenv("BATON_CONTROL", path)
		t.Setenv("XDG_RUNTIME_DIR", dir)
		if _, err := Find("", ""); !errors.Is(err, ErrNoMaster) || !strings.Contains(err.Error(), want) {
			t.Errorf("BATON_CONTROL=%s: %v, want no master saying %q", path, err, want)
		}
	}
	if p, err := Find(filepath.Join(dir, "none.sock"), ""); err != nil || p == "" {
		t.Errorf("a path with nothing there: %q %v, want it returned", p, err)
	}
}
