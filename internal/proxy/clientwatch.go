package proxy

import (
	"context"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// clientWatch notices, while a tcp connection waits for a ready worker,
// that its client went away, without reading any byte the client sent
// (those are for the worker). It parks in Go's poller on the client's
// socket and, at each wake-up, asks the kernel whether the peer reset the
// connection or ended its sending. Either counts as gone, as in the http
// proxy (whose server ends a request's context when its client closes)
// and HAProxy's abortonclose: a client that gave up must not have its
// request run later for nobody. A client that half-closes on purpose
// right after its request is treated the same only while it waits.
type clientWatch struct {
	ctx    context.Context
	cancel context.CancelFunc
	conn   net.Conn
	done   chan struct{}
}

// watchClient starts watching c; ctx ends when c's client is gone. The
// caller must call stop before reading from c.
func watchClient(c net.Conn) *clientWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &clientWatch{ctx: ctx, cancel: cancel, done: make(chan struct{})}
	sc, ok := c.(syscall.Conn)
	if !ok {
		close(w.done)
		return w
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		close(w.done)
		return w
	}
	w.conn = c
	go func() {
		defer close(w.done)
		// Returns when the callback says so, or with an error once stop
		// sets a read deadline in the past.
		_ = rc.Read(func(fd uintptr) bool {
			if ctx.Err() != nil {
				return true
			}
			if peerGone(int(fd)) {
				cancel()
				return true
			}
			return false
		})
	}()
	return w
}

// stop ends the watch and leaves c as it found it.
func (w *clientWatch) stop() {
	w.cancel()
	if w.conn == nil {
		return
	}
	_ = w.conn.SetReadDeadline(time.Now())
	<-w.done
	_ = w.conn.SetReadDeadline(time.Time{})
}

// peerGone says, without waiting or reading, whether the peer of socket
// fd reset the connection or ended its sending.
func peerGone(fd int) bool {
	return peerEvents(fd)&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0
}

// peerReset says, without waiting or reading, whether the peer of socket
// fd reset the connection (a half-close is not a reset).
func peerReset(fd int) bool {
	return peerEvents(fd)&(unix.POLLHUP|unix.POLLERR) != 0
}

func peerEvents(fd int) int16 {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
	if n, err := unix.Poll(fds, 0); err != nil || n == 0 {
		return 0
	}
	return fds[0].Revents
}
