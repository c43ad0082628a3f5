package control

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
)

// swapListener accepts on its current listener; replace puts a new one
// in its place (closing the old), and an Accept blocked on the old one
// goes on with the new. That is how a control socket whose file was
// removed is created again without the server noticing.
type swapListener struct {
	mu     sync.Mutex
	cur    net.Listener
	closed bool
}

func (l *swapListener) Accept() (net.Conn, error) {
	for {
		cur := l.current()
		c, err := cur.Accept()
		if err == nil {
			return c, nil
		}
		l.mu.Lock()
		replaced := l.cur != cur && !l.closed
		l.mu.Unlock()
		if !replaced {
			return nil, err
		}
	}
}

// Close closes the current listener; no replacement is taken after it.
func (l *swapListener) Close() error {
	l.mu.Lock()
	l.closed = true
	cur := l.cur
	l.mu.Unlock()
	return cur.Close()
}

func (l *swapListener) Addr() net.Addr { return l.current().Addr() }

func (l *swapListener) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

func (l *swapListener) current() net.Listener {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur
}

// replace swaps next in and closes the old listener; false (next left
// alone) once the listener is closed.
func (l *swapListener) replace(next net.Listener) bool {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return false
	}
	old := l.cur
	l.cur = next
	l.mu.Unlock()
	_ = old.Close()
	return true
}

// ErrNameGivenUp is Restore's answer when the name's lock file was
// removed along with the socket: the name is free, and another master
// may take it; this one does not take it back.
var ErrNameGivenUp = errors.New("its lock file was removed too, so the name is free for another master: this one stays unreachable by name (stop it by pid, or restart it)")

// Restore creates the socket file again when it is gone (removed by hand)
// while the name's lock file is still this master's: clients find the
// master again, at the same path, mode 0600. It does nothing when
// anything is at the path: the file this master bound, or something
// someone else put there, which is left alone. It reports whether it
// created the socket.
func (s *Socket) Restore() (bool, error) {
	if _, present := lstatID(s.path); present || s.swap.isClosed() {
		return false, nil
	}
	if s.lock == nil {
		return false, ErrNameGivenUp
	}
	if id, ok := lstatID(s.lock.path); !ok || id != s.lock.id {
		return false, ErrNameGivenUp
	}
	ln, id, err := bindPrivate(s.path)
	if err != nil {
		return false, fmt.Errorf("control socket %s: create it again: %w", s.path, err)
	}
	if !s.swap.replace(ln) {
		_ = ln.Close()
		if now, ok := lstatID(s.path); ok && now == id {
			_ = os.Remove(s.path)
		}
		return false, nil
	}
	s.mu.Lock()
	s.file = id
	s.mu.Unlock()
	return true, nil
}
