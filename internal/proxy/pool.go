package proxy

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Errors of a pick.
var (
	// ErrNoBackend: no worker became ready within the wait.
	ErrNoBackend = errors.New("no worker is ready")
	// ErrClosed: the pool is closed (the master stops).
	ErrClosed = errors.New("the proxy is stopping")
)

// Pool holds the backends in rotation. Its zero value is not usable: use
// NewPool.
type Pool struct {
	mu       sync.Mutex
	ready    []*Backend       // in rotation, in order of joining
	all      map[int]*Backend // every backend not yet forgotten, by id
	next     int              // round-robin cursor among equals
	changed  chan struct{}    // closed and replaced when a backend joins or the pool closes
	closed   bool
	waitFor  time.Duration // how long a pick waits for a ready backend
	counters Counters
}

// Counters are the pool's totals, for status.
type Counters struct {
	Retries  atomic.Uint64 // requests sent again to another worker
	Failed   atomic.Uint64 // requests or connections that got an error answer or none
	Waited   atomic.Uint64 // picks that had to wait for a ready worker
	NoWorker atomic.Uint64 // picks that gave up waiting (503 or close)
	// Bytes copied client → worker and worker → client (tcp).
	BytesIn, BytesOut atomic.Uint64
	// Responses by status class (http): index 1 for 1xx ... 5 for 5xx,
	// baton's own 502 and 503 included.
	Responses [6]atomic.Uint64
}

// CountResponse counts one response of status code.
func (c *Counters) CountResponse(code int) {
	if class := code / 100; class >= 1 && class <= 5 {
		c.Responses[class].Add(1)
	}
}

// NewPool returns an empty pool whose picks wait up to wait for a backend.
func NewPool(wait time.Duration) *Pool {
	return &Pool{all: map[int]*Backend{}, changed: make(chan struct{}), waitFor: wait}
}

// Counters returns the pool's totals.
func (p *Pool) Counters() *Counters { return &p.counters }

// Register makes b known (for status) without putting it in rotation.
func (p *Pool) Register(b *Backend) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.all[b.ID] = b
}

// Add puts b in rotation and wakes the picks waiting for one.
func (p *Pool) Add(b *Backend) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.all[b.ID] = b
	for _, r := range p.ready {
		if r == b {
			return
		}
	}
	p.ready = append(p.ready, b)
	p.wakeLocked()
}

// Remove takes b out of rotation: no pick returns it afterwards.
func (p *Pool) Remove(b *Backend) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.removeLocked(b)
}

func (p *Pool) removeLocked(b *Backend) {
	for i, r := range p.ready {
		if r == b {
			p.ready = append(p.ready[:i:i], p.ready[i+1:]...)
			return
		}
	}
}

// Forget removes b from rotation and from status (its process exited).
func (p *Pool) Forget(b *Backend) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.removeLocked(b)
	delete(p.all, b.ID)
}

// Lookup returns the backend of launch id, if it is known.
func (p *Pool) Lookup(id int) (*Backend, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.all[id]
	return b, ok
}

// Ready is how many backends are in rotation.
func (p *Pool) Ready() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ready)
}

// Close makes every pick, waiting or to come, fail with ErrClosed.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		p.wakeLocked()
	}
}

func (p *Pool) wakeLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// Pick returns the backend with the fewest open connections or requests,
// round-robin among equals, skipping those in exclude, and counts one
// more open on it: the caller must call its Release. With none ready it
// waits up to the pool's wait (or until ctx ends) for one to join.
func (p *Pool) Pick(ctx context.Context, exclude map[*Backend]bool) (*Backend, error) {
	var deadline <-chan time.Time
	waited := false
	for {
		b, changed, err := p.tryPick(exclude)
		if b != nil || err != nil {
			return b, err
		}
		if !waited {
			waited = true
			p.counters.Waited.Add(1)
			t := time.NewTimer(p.waitFor)
			defer t.Stop()
			deadline = t.C
		}
		select {
		case <-changed:
		case <-deadline:
			p.counters.NoWorker.Add(1)
			return nil, ErrNoBackend
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// PickNow is Pick without waiting: nil and no error when no backend is
// ready.
func (p *Pool) PickNow(exclude map[*Backend]bool) (*Backend, error) {
	b, _, err := p.tryPick(exclude)
	return b, err
}

// tryPick picks without waiting; with nothing to pick it returns the
// channel that is closed at the next change.
func (p *Pool) tryPick(exclude map[*Backend]bool) (*Backend, <-chan struct{}, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, nil, ErrClosed
	}
	n := len(p.ready)
	var best *Backend
	bestAt := 0
	for i := 0; i < n; i++ {
		at := (p.next + i) % n
		b := p.ready[at]
		if exclude[b] {
			continue
		}
		if best == nil || b.Open() < best.Open() {
			best, bestAt = b, at
		}
	}
	if best == nil {
		return nil, p.changed, nil
	}
	p.next = bestAt + 1
	best.acquire()
	return best, nil, nil
}
