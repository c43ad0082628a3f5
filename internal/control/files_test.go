package control

import (
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// Passing the control listener to a new master must leave this master's
// own listener non-blocking (os/exec calls Fd on what it passes).
func TestFilesKeepTheListenerNonBlocking(t *testing.T) {
	s, err := Listen(filepath.Join(t.TempDir(), "c.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ln, _, err := s.Files()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_ = ln.Fd() // what os/exec does with ExtraFiles
	flags, err := unix.FcntlInt(ln.Fd(), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.O_NONBLOCK == 0 {
		t.Fatal("passing the control listener made it blocking for this master too")
	}
}
