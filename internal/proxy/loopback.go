package proxy

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync/atomic"
	"syscall"
)

// loopback is a worker's private address: 127.0.0.1:PORT, or [::1]:PORT
// for a program that bound the IPv6 loopback alone. The contract has the
// worker bind 127.0.0.1:$PORT, but a program told "localhost" binds the
// first address the resolver gives: ::1 for Node since 17, Deno, Bun and
// Vite wherever /etc/hosts lists "::1 localhost" (Debian, Ubuntu, Fedora).
// As nginx tries each address of an upstream's name, a dial that is
// refused on one loopback tries the other, and the one that answered is
// the worker's address from then on.
type loopback struct {
	v4, v6 string
	onV6   atomic.Bool
}

func newLoopback(port int) *loopback {
	p := strconv.Itoa(port)
	return &loopback{v4: "127.0.0.1:" + p, v6: "[::1]:" + p}
}

// String is the address that answered last (127.0.0.1 before any).
func (l *loopback) String() string {
	if l.onV6.Load() {
		return l.v6
	}
	return l.v4
}

// dial connects to the worker: at its last address, or, refused there,
// at the other loopback. The first error is the one returned when both
// fail, since the worker is told to bind 127.0.0.1.
func (l *loopback) dial(ctx context.Context, d *net.Dialer) (net.Conn, error) {
	v6 := l.onV6.Load()
	first, other := l.v4, l.v6
	if v6 {
		first, other = l.v6, l.v4
	}
	c, err := d.DialContext(ctx, "tcp", first)
	if err == nil || !errors.Is(err, syscall.ECONNREFUSED) {
		return c, err
	}
	c, err2 := d.DialContext(ctx, "tcp", other)
	if err2 != nil {
		if v6 {
			return nil, err2 // 127.0.0.1's error: the address the worker should bind
		}
		return nil, err
	}
	l.onV6.CompareAndSwap(v6, !v6)
	return c, nil
}
