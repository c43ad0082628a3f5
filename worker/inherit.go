package worker

import (
	"fmt"
	"net"
	"os"
	"sync"
)

// inherited is the one piece of process-wide state in this package: the
// sockets passed down at start (fd 3, 4, ...). The activation environment
// is itself process-wide and can be consumed only once (it is unset
// afterwards), so the descriptors are taken on first use, under a
// sync.Once, and kept open for the life of the process. Every Listen and
// Listeners call hands out fresh duplicates of them.
var inherited struct {
	once  sync.Once
	socks []inheritedSocket
	err   error
}

// inheritedSocket is one descriptor passed down by the supervisor.
type inheritedSocket struct {
	name string
	fd   int
	file *os.File // owns fd; never closed
}

// takeInherited returns the inherited sockets, taking them on first call.
func takeInherited() ([]inheritedSocket, error) {
	inherited.once.Do(func() {
		inherited.socks, inherited.err = take(os.Getenv, os.Getpid())
	})
	return inherited.socks, inherited.err
}

// listener returns a new net.Listener on a duplicate of the socket, after
// checking that it is a listening stream socket (TCP or unix).
func (s inheritedSocket) listener() (net.Listener, error) {
	if err := checkListening(s.fd); err != nil {
		return nil, fmt.Errorf("use inherited fd %d (%q): %w", s.fd, s.name, err)
	}
	ln, err := net.FileListener(s.file)
	if err != nil {
		return nil, fmt.Errorf("use inherited fd %d (%q) as a listener: %w", s.fd, s.name, err)
	}
	return ln, nil
}
