package proxy

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Backend is one worker's private port as the pool sees it.
type Backend struct {
	ID   int // the worker's launch id, unique per master
	Slot int // for logs
	Port int
	addr *loopback // where it listens: 127.0.0.1:PORT, or [::1]:PORT

	open     atomic.Int64  // open connections (tcp) or requests in flight (http)
	served   atomic.Uint64 // connections or requests taken, ever
	draining atomic.Bool
	steered  atomic.Bool   // was in the kernel's rotation: its drain waits for those connections too
	idle     chan struct{} // gets a token when open drops to 0 while draining
	gone     chan struct{} // closed when its process exited
	goneOnce sync.Once

	// Transport is this backend's own upstream transport (http), so its
	// idle connections can be closed alone when it drains.
	Transport *http.Transport
	// upstream carries its plain requests (upstream.go); Transport the
	// upgrades and streamed bodies.
	upstream *upstream
	// fresh is Transport without keep-alive: for a request that cannot
	// be sent twice, to a worker seen closing kept connections early.
	fresh *http.Transport

	// --max-requests: reached is called once served reaches limit.
	limit   atomic.Uint64
	reached atomic.Pointer[func()]
	hit     atomic.Bool
}

// NewBackend describes the worker with launch id id listening on port.
func NewBackend(id, slot, port int) *Backend {
	return &Backend{ID: id, Slot: slot, Port: port, addr: newLoopback(port), idle: make(chan struct{}, 1), gone: make(chan struct{})}
}

// Addr is where the worker listens, as far as the last connection to it
// went: 127.0.0.1:PORT, or [::1]:PORT (see loopback).
func (b *Backend) Addr() string { return b.addr.String() }

// dial connects to the worker's private port.
func (b *Backend) dial(ctx context.Context, d *net.Dialer) (net.Conn, error) {
	return b.addr.dial(ctx, d)
}

// NewHTTPBackend is NewBackend with the upstream clients of --proxy http.
func NewHTTPBackend(id, slot, port int) *Backend {
	b := NewBackend(id, slot, port)
	b.Transport, b.upstream, b.fresh = newTransport(b.dial), newUpstream(b.dial), newTransport(b.dial)
	b.fresh.DisableKeepAlives = true
	return b
}

// transportFor is the transport of req on b: a request that cannot be
// sent twice goes on a new connection once the worker was seen closing
// kept-alive connections early (upstream.closedIdle), since one that
// closes as the request arrives costs a 502, and http.Transport cannot be
// told per request not to reuse a connection.
func (b *Backend) transportFor(req *http.Request) *http.Transport {
	if b.fresh != nil && b.upstream != nil && !idempotent(req) && b.upstream.closedIdle.Load() > 0 {
		return b.fresh
	}
	return b.Transport
}

// closeIdle closes its idle upstream connections (--proxy http) and
// keeps none from now on.
func (b *Backend) closeIdle() {
	if b.Transport != nil {
		b.Transport.CloseIdleConnections()
	}
	if b.upstream != nil {
		b.upstream.retire()
	}
}

// Open is how many connections or requests it has open now.
func (b *Backend) Open() int64 { return b.open.Load() }

// Served is how many connections or requests it took.
func (b *Backend) Served() uint64 { return b.served.Load() }

// acquire counts one more open connection or request; the pool calls it
// under its lock, so that a removed backend is never acquired again.
func (b *Backend) acquire() {
	b.open.Add(1)
	b.checkLimit(b.served.Add(1))
}

// limitServed calls reached, once, when served reaches n (at once if it
// already has).
func (b *Backend) limitServed(n uint64, reached func()) {
	b.reached.Store(&reached)
	b.limit.Store(n)
	b.checkLimit(b.served.Load())
}

// checkLimit calls the limit's function, in its own goroutine (acquire
// runs under the pool's lock), the first time served reaches it.
func (b *Backend) checkLimit(served uint64) {
	if lim := b.limit.Load(); lim == 0 || served < lim || !b.hit.CompareAndSwap(false, true) {
		return
	}
	if f := b.reached.Load(); f != nil {
		go (*f)()
	}
}

// Release ends one connection or request that a pick or Acquire counted.
func (b *Backend) Release() {
	if b.open.Add(-1) == 0 && b.draining.Load() {
		select {
		case b.idle <- struct{}{}:
		default:
		}
	}
}

// stop says its process exited: a drain waits no longer.
func (b *Backend) stop() { b.goneOnce.Do(func() { close(b.gone) }) }

// waitIdle waits until nothing is open, or until timeout or its process
// exited; it reports whether everything ended.
func (b *Backend) waitIdle(timeout time.Duration) bool {
	b.draining.Store(true)
	t := time.NewTimer(timeout)
	defer t.Stop()
	for b.open.Load() > 0 {
		select {
		case <-b.idle:
		case <-t.C:
			return b.open.Load() == 0
		case <-b.gone:
			return b.open.Load() == 0
		}
	}
	return true
}
