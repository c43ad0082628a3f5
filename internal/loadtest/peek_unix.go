//go:build linux || darwin || freebsd || netbsd || openbsd

package loadtest

import (
	"net"
	"syscall"
)

// idleConnOK reports whether an idle connection, whose last response was
// read completely, can carry another request: the peer has not closed or
// reset it and has sent nothing unsolicited. It peeks at the socket
// without blocking and without consuming anything. Connections it cannot
// inspect are assumed usable.
func idleConnOK(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	usable := true
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// EAGAIN: nothing to read, still open. n == 0: orderly close.
		// n > 0: stray bytes. Any other error: reset or worse.
		usable = rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK || rerr == syscall.EINTR
		return true
	})
	return err == nil && usable
}
