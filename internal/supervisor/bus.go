package supervisor

import (
	"sync"
	"sync/atomic"
)

// Bus fans the supervisor's events out to subscribers. Publishing never
// blocks: each subscriber has a bounded buffer, and an event that does not
// fit is dropped for that subscriber and counted.
type Bus struct {
	mu      sync.Mutex
	subs    map[*Subscription]struct{}
	seq     uint64
	closed  bool
	dropped atomic.Uint64
}

// Subscription is one subscriber's feed. C is closed by Close, or when
// the supervisor has stopped and every event was delivered.
type Subscription struct {
	C <-chan Event
	// After is the Seq of the last event published before it subscribed:
	// C carries events After+1, After+2, ...
	After   uint64
	c       chan Event
	bus     *Bus
	dropped atomic.Uint64
}

// NewBus returns a bus with no subscribers.
func NewBus() *Bus { return &Bus{subs: map[*Subscription]struct{}{}} }

// Subscribe returns a feed of every event published from now on, holding
// up to buffer events the subscriber has not read yet.
func (b *Bus) Subscribe(buffer int) *Subscription {
	c := make(chan Event, buffer)
	s := &Subscription{C: c, c: c, bus: b}
	b.mu.Lock()
	defer b.mu.Unlock()
	s.After = b.seq
	if b.closed {
		close(c)
		return s
	}
	b.subs[s] = struct{}{}
	return s
}

// Close ends the subscription; C is closed. Safe to call more than once.
func (s *Subscription) Close() {
	b := s.bus
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.c)
	}
}

// Dropped counts the events this subscriber missed because its buffer was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Dropped counts the events missed by all subscribers together.
func (b *Bus) Dropped() uint64 { return b.dropped.Load() }

// Seq is the number of the last event published.
func (b *Bus) Seq() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seq
}

// publish numbers e and offers it to every subscriber.
func (b *Bus) publish(e Event) Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	e.Seq = b.seq
	for s := range b.subs {
		select {
		case s.c <- e:
		default:
			s.dropped.Add(1)
			b.dropped.Add(1)
		}
	}
	return e
}

// close ends every subscription once the last event is published.
func (b *Bus) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		delete(b.subs, s)
		close(s.c)
	}
}
