package supervisor

import (
	"context"
	"sync"
)

// Tracker follows the event stream and keeps what status shows beyond the
// supervisor's snapshot: the running rollout, else the last one. It is a
// subscriber like any other; Rollout waits until it has caught up with a
// snapshot, so status never shows an older rollout than the snapshot's.
type Tracker struct {
	mu     sync.Mutex
	seen   uint64         // the Seq of the last event read
	last   *RolloutStatus // the running rollout, else the last one
	closed bool           // the stream ended
	wake   chan struct{}  // closed and replaced whenever seen advances
}

// TrackerBuffer is how many unread events a Tracker holds.
const TrackerBuffer = 4096

// NewTracker subscribes to bus and follows it until the bus closes.
func NewTracker(bus *Bus) *Tracker {
	sub := bus.Subscribe(TrackerBuffer)
	t := &Tracker{wake: make(chan struct{}), seen: sub.After}
	go t.follow(sub)
	return t
}

func (t *Tracker) follow(sub *Subscription) {
	for e := range sub.C {
		t.mu.Lock()
		t.seen = e.Seq
		if e.Kind == KindRollout && e.Rollout != nil {
			r := *e.Rollout
			t.last = &r
		}
		close(t.wake)
		t.wake = make(chan struct{})
		t.mu.Unlock()
	}
	t.mu.Lock()
	t.closed = true
	close(t.wake)
	t.mu.Unlock()
}

// Seed sets the last rollout before any event arrives (the one a replaced
// master reported last).
func (t *Tracker) Seed(r *RolloutStatus) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil && r != nil {
		c := *r
		t.last = &c
	}
}

// Rollout returns the running or last rollout (nil if none ran) once the
// tracker has read every event up to seq, or ctx ended.
func (t *Tracker) Rollout(ctx context.Context, seq uint64) *RolloutStatus {
	for {
		t.mu.Lock()
		if t.seen >= seq || t.closed {
			defer t.mu.Unlock()
			if t.last == nil {
				return nil
			}
			r := *t.last
			return &r
		}
		wake := t.wake
		t.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			t.mu.Lock()
			defer t.mu.Unlock()
			if t.last == nil {
				return nil
			}
			r := *t.last
			return &r
		}
	}
}
