package sockets

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// ErrCannotListenAgain means a unix socket was shut down: Linux keeps it
// in the listening state but refuses every connection, and listen() does
// not undo a shutdown. Only a new socket bound at the path (and workers
// started on it) serves again.
var ErrCannotListenAgain = errors.New("a unix socket that was shut down cannot listen again: it must be bound anew and the workers restarted on it")

// Listening reports whether the socket still takes connections, read on
// the master's own descriptor: SO_ACCEPTCONN, and no shutdown of its
// receiving side. Workers share the socket's open file description with
// the master, so one that calls shutdown() on it takes it down for all.
func (s *Socket) Listening() (bool, error) {
	var listening bool
	var opErr error
	err := s.control(func(fd int) { listening, opErr = isListening(fd) })
	if err == nil {
		err = opErr
	}
	if err != nil {
		return false, fmt.Errorf("socket %s: check listening: %w", s.Name, err)
	}
	return listening, nil
}

// isListening reads the state of the listening descriptor fd. A TCP socket
// that was shut down leaves the LISTEN state; a unix one stays in it but
// reports a hang-up of its receiving side to poll.
func isListening(fd int) (bool, error) {
	on, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	if err != nil || on == 0 {
		return false, err
	}
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
	for {
		_, err = unix.Poll(pfd, 0)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		return false, err
	}
	return pfd[0].Revents&(unix.POLLRDHUP|unix.POLLHUP) == 0, nil
}

// Heal makes the socket listen again when it no longer does, and says
// whether it had to. On Linux a TCP socket that a worker shut down stays
// bound to its port, and listen() on it restores it for every process
// that shares it; one bound to port 0 loses its port and is bound to the
// same port again first. A unix socket cannot be healed this way: Heal
// returns an error wrapping [ErrCannotListenAgain].
func (s *Socket) Heal() (healed bool, err error) {
	ok, err := s.Listening()
	if err != nil || ok {
		return false, err
	}
	if s.Network == "unix" {
		return false, fmt.Errorf("socket %s (unix:%s): %w", s.Name, s.Addr, ErrCannotListenAgain)
	}
	var opErr error
	if err := s.control(func(fd int) { opErr = s.listenAgain(fd) }); err != nil {
		opErr = err
	}
	if opErr != nil {
		return false, fmt.Errorf("socket %s (%s): listen again: %w", s.Name, s.Addr, opErr)
	}
	if ok, err := s.Listening(); err != nil || !ok {
		return false, fmt.Errorf("socket %s (%s): still not listening after listen() again (%v)", s.Name, s.Addr, err)
	}
	return true, nil
}

// listenAgain binds fd to its address again when a shutdown released its
// port (EINVAL means it is still bound: the usual case), then listens.
func (s *Socket) listenAgain(fd int) error {
	if s.bound != nil {
		if err := unix.Bind(fd, s.bound); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("bind the port again: %w", err)
		}
	}
	if err := unix.Listen(fd, Backlog()); err != nil {
		return err
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return err
	}
	if now := sockaddrString(sa); s.bound != nil && now != s.Addr {
		return fmt.Errorf("the socket listens on %s now, not %s", now, s.Addr)
	}
	return nil
}

// control runs f with the master's descriptor of the socket.
func (s *Socket) control(f func(fd int)) error {
	raw, err := s.File.SyscallConn()
	if err != nil {
		return err
	}
	return raw.Control(func(fd uintptr) { f(int(fd)) })
}
