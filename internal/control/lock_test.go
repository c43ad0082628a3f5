package control

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

const nameTaken = "another master is running with this name (choose another --name)"

// Nothing but a stale socket is ever removed: whatever else is at the path
// is refused and left exactly as it was, and no lock file stays behind.
func TestListenRefusesWhatIsNotASocket(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	emptyDir := filepath.Join(dir, "dir")
	link := filepath.Join(dir, "link")
	fifo := filepath.Join(dir, "fifo")
	if err := os.WriteFile(file, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(emptyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{file, emptyDir, link, fifo} {
		before, _ := os.Lstat(p)
		s, err := Listen(p)
		if err == nil {
			s.Close()
			t.Fatalf("%s: accepted", p)
		}
		if want := "control socket " + p + ": exists and is not a socket: baton only replaces a stale socket"; err.Error() != want {
			t.Errorf("got  %v\nwant %s", err, want)
		}
		after, err := os.Lstat(p)
		if err != nil || after.Mode() != before.Mode() || !os.SameFile(before, after) {
			t.Errorf("%s was changed: %v", p, err)
		}
		if _, err := os.Lstat(LockPath(p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: lock file left behind", p)
		}
	}
	if b, _ := os.ReadFile(file); string(b) != "precious" {
		t.Fatal("file content changed")
	}
}

func TestListenRefusesAPathTooLong(t *testing.T) {
	p := "/tmp/" + strings.Repeat("n", 103)
	_, err := Listen(p)
	if err == nil || err.Error() != "control socket "+p+": unix socket path is 108 bytes, the limit is 107" {
		t.Fatalf("%v", err)
	}
}

// Masters started at the same instant with one name: exactly one wins.
func TestLockOneMasterPerName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.sock")
	const n = 16
	var wg sync.WaitGroup
	socks := make([]*Socket, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			socks[i], errs[i] = Listen(path)
		}()
	}
	close(start)
	wg.Wait()
	var winner *Socket
	for i := range n {
		switch {
		case errs[i] == nil && winner == nil:
			winner = socks[i]
		case errs[i] == nil:
			t.Fatal("two masters got the same name")
		case errs[i].Error() != "control socket "+path+": "+nameTaken:
			t.Errorf("loser: %v", errs[i])
		}
	}
	if winner == nil {
		t.Fatal("no master got the name")
	}
	if winner.Path() != path || !alive(path) {
		t.Fatal("the winner does not listen")
	}
	if err := winner.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, LockPath(path)} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind after Close", p)
		}
	}
	again, err := Listen(path)
	if err != nil {
		t.Fatalf("name not given up by Close: %v", err)
	}
	again.Close()
}

// The name is held while the master lives even when its socket file is
// gone (deleted by hand, or by an old master's cleanup).
func TestLockHeldWithoutTheSocketFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.sock")
	a, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if b, err := Listen(path); err == nil {
		b.Close()
		t.Fatal("a second master took a held name")
	} else if !strings.Contains(err.Error(), nameTaken) {
		t.Fatal(err)
	}
}

// Close removes only the socket this master bound, never one another
// master put at the path since.
func TestListenCloseRemovesOnlyItsOwnSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.sock")
	a, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	if st, _ := os.Stat(LockPath(path)); st.Mode().Perm() != 0o600 {
		t.Fatalf("lock mode %v", st.Mode())
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	other, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	a.Close()
	a.Close() // twice is harmless
	if !alive(path) {
		t.Fatal("Close removed another master's socket")
	}
}

// A socket with a live listener that takes no lock (an older master) is
// not replaced either.
func TestListenRefusesALiveSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.sock")
	old, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if s, err := Listen(path); err == nil {
		s.Close()
		t.Fatal("replaced a live socket")
	} else if err.Error() != "control socket "+path+": "+nameTaken {
		t.Fatal(err)
	}
	if _, err := os.Lstat(LockPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("lock file left behind")
	}
}

func TestFindIgnoresLockFiles(t *testing.T) {
	dir := t.TempDir()
	a, err := Listen(SocketPath(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// A lock file named like a socket, and a stale lock without a socket.
	for _, name := range []string{"x.sock.lock", "y.lock"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if got := Live(dir); len(got) != 1 || got[0] != "a" {
		t.Fatalf("Live = %q", got)
	}
}

// Masters starting while others stop, over and over: never two owners at
// once. (A lock file removed by a stopping master while another opened it
// would otherwise let two masters lock two different files.)
func TestLockNeverTwoOwnersUnderChurn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.sock")
	var owners, wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				s, err := Listen(path)
				if err != nil {
					if !strings.Contains(err.Error(), nameTaken) {
						t.Error(err)
					}
					continue
				}
				if owners.Add(1) != 1 {
					t.Error("two owners of one name")
				}
				wins.Add(1)
				owners.Add(-1)
				s.Close()
			}
		}()
	}
	wg.Wait()
	if wins.Load() == 0 {
		t.Fatal("no master ever got the name")
	}
}
