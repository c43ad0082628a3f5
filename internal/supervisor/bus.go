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

// chanBuffer is the part of a subscriber's buffer held in its channel;
// the rest is taken only while the subscriber is behind, so that a master
// with a few generous subscribers (thousands of events each) does not
// hold their buffers in memory all the time.
const chanBuffer = 16

// Subscription is one subscriber's feed. C is closed by Close, or when
// the supervisor has stopped and every event was delivered.
type Subscription struct {
	C <-chan Event
	// After is the Seq of the last event published before it subscribed:
	// C carries events After+1, After+2, ...
	After   uint64
	c       chan Event
	bus     *Bus
	limit   int // events held at most: in c and in overflow together
	dropped atomic.Uint64
	stop    chan struct{} // closed by Close: the pump gives up
	pump    sync.WaitGroup

	// Guarded by bus.mu.
	overflow []Event // events that did not fit in c, oldest first
	pumping  bool    // a goroutine moves overflow into c
	ending   bool    // the bus closed: close c once overflow is delivered
	stopped  bool    // Close was called
	closedC  bool
}

// NewBus returns a bus with no subscribers.
func NewBus() *Bus { return &Bus{subs: map[*Subscription]struct{}{}} }

// Subscribe returns a feed of every event published from now on, holding
// up to buffer events the subscriber has not read yet.
func (b *Bus) Subscribe(buffer int) *Subscription {
	buffer = max(buffer, 1)
	c := make(chan Event, min(buffer, chanBuffer))
	s := &Subscription{C: c, c: c, bus: b, limit: buffer, stop: make(chan struct{})}
	b.mu.Lock()
	defer b.mu.Unlock()
	s.After = b.seq
	if b.closed {
		s.closeCLocked()
		return s
	}
	b.subs[s] = struct{}{}
	return s
}

// Close ends the subscription; C is closed, and events already in C can
// still be read. Safe to call more than once.
func (s *Subscription) Close() {
	b := s.bus
	b.mu.Lock()
	if s.stopped {
		b.mu.Unlock()
		return
	}
	s.stopped = true
	delete(b.subs, s)
	b.mu.Unlock()
	close(s.stop)
	s.pump.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	s.overflow = nil
	s.closeCLocked()
}

func (s *Subscription) closeCLocked() {
	if !s.closedC {
		s.closedC = true
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
		s.offerLocked(e)
	}
	return e
}

// offerLocked hands e to the subscriber without blocking: straight into
// C while nothing waits before it, else behind the events waiting, or
// dropped when the subscriber already holds its whole buffer.
func (s *Subscription) offerLocked(e Event) {
	if len(s.overflow) == 0 {
		select {
		case s.c <- e:
			return
		default:
		}
	}
	if len(s.c)+len(s.overflow) >= s.limit {
		s.dropped.Add(1)
		s.bus.dropped.Add(1)
		return
	}
	s.overflow = append(s.overflow, e)
	if !s.pumping {
		s.pumping = true
		s.pump.Add(1)
		go s.pumpOverflow()
	}
}

// pumpOverflow moves the waiting events into C, in order, as the
// subscriber reads; it ends when none is left or on Close.
func (s *Subscription) pumpOverflow() {
	defer s.pump.Done()
	b := s.bus
	for {
		b.mu.Lock()
		if len(s.overflow) == 0 || s.stopped {
			s.pumping, s.overflow = false, nil
			if s.ending && !s.stopped {
				s.closeCLocked()
			}
			b.mu.Unlock()
			return
		}
		e := s.overflow[0] // stays queued until sent, so offers queue behind it
		b.mu.Unlock()
		select {
		case s.c <- e:
		case <-s.stop:
			return
		}
		b.mu.Lock()
		s.overflow = s.overflow[1:]
		b.mu.Unlock()
	}
}

// close ends every subscription once the last event is delivered.
func (b *Bus) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		delete(b.subs, s)
		s.ending = true
		if !s.pumping {
			s.closeCLocked()
		}
	}
}
