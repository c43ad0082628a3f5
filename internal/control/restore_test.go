package control

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A control socket whose file was removed is created again, and an Accept
// that was waiting on the old listener takes connections at the new one.
func TestRestoreCreatesTheRemovedSocketAgain(t *testing.T) {
	dir, err := os.MkdirTemp("", "ctl")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "sub", "m.sock")
	if err := os.Mkdir(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	if restored, err := s.Restore(); restored || err != nil {
		t.Fatalf("Restore with the socket in place: %v %v", restored, err)
	}
	accepted := make(chan error, 1)
	go func() {
		c, err := s.Accept()
		if err == nil {
			c.Close()
		}
		accepted <- err
	}()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Dial("unix", path); err == nil {
		t.Fatal("dialed a removed socket")
	}
	if restored, err := s.Restore(); !restored || err != nil {
		t.Fatalf("Restore after the removal: %v %v", restored, err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the new socket: %v %v", st, err)
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("dial the new socket: %v", err)
	}
	defer c.Close()
	select {
	case err := <-accepted:
		if err != nil {
			t.Fatalf("accept: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting Accept never took the connection at the new socket")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatalf("Close left the new socket file: %v", err)
	}
	if restored, _ := s.Restore(); restored {
		t.Fatal("Restore after Close created a socket")
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatalf("Restore after Close left a file: %v", err)
	}
}

// With its lock file removed too, the name is free: Restore leaves the
// path to whichever master takes it.
func TestRestoreLeavesAGivenUpNameAlone(t *testing.T) {
	dir, err := os.MkdirTemp("", "ctl")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "m.sock")
	s, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, p := range []string{path, LockPath(path)} {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	if restored, err := s.Restore(); restored || err != ErrNameGivenUp {
		t.Fatalf("Restore without the lock: %v %v", restored, err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatalf("Restore without the lock created %s: %v", path, err)
	}
}
