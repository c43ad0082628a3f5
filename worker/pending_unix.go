//go:build unix && !aix

package worker

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// pendingInput reports whether bytes from the client are waiting to be
// read on c: an idle connection whose next request has arrived is about
// to become active and must not be closed. It peeks without blocking or
// consuming, and without the read lock the server's own read holds.
func pendingInput(c net.Conn) bool {
	if nc, ok := c.(interface{ NetConn() net.Conn }); ok {
		c = nc.NetConn() // *tls.Conn
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	pending := false
	_ = raw.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		pending = err == nil && n > 0
	})
	return pending
}
