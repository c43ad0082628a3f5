package supervisor

import (
	"context"
	"testing"
)

func TestSlowSubscriberNeverBlocksAndDropsAreCounted(t *testing.T) {
	bus := NewBus()
	slow := bus.Subscribe(1) // never read
	h := run(t, newFake(), 3, func(o *Options) { o.Bus = bus })
	if _, err := h.reload(ReloadOptions{}); err != nil {
		t.Fatal(err)
	}
	if slow.Dropped() == 0 || bus.Dropped() < slow.Dropped() {
		t.Fatalf("dropped: sub %d, bus %d", slow.Dropped(), bus.Dropped())
	}
	slow.Close()
	slow.Close()
	if _, ok := <-slow.C; !ok {
		t.Fatal("the buffered event was lost on Close")
	}
}

func TestTrackerCatchesUpWithTheSnapshot(t *testing.T) {
	h := run(t, newFake(), 2, nil)
	tr := NewTracker(h.s.Events())
	if r := tr.Rollout(context.Background(), h.status().Seq); r != nil {
		t.Fatalf("a rollout before any ran: %+v", r)
	}
	st, err := h.reload(ReloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := tr.Rollout(context.Background(), h.status().Seq)
	if r == nil || r.ID != st.ID || r.State != RolloutDone || r.Replaced != 2 {
		t.Fatalf("tracked %+v, want %+v", r, st)
	}
	h.shutdown()
	if r := tr.Rollout(context.Background(), 1<<60); r == nil {
		t.Fatal("a closed stream must not block")
	}
}

// A subscriber that falls behind gets, in order, every event up to its
// whole buffer (beyond what its channel holds), then drops are counted;
// once the bus closes, what it holds is still delivered before C closes.
func TestSubscriberBehindGetsItsWholeBufferInOrder(t *testing.T) {
	const buffer = 5 * chanBuffer
	bus := NewBus()
	sub := bus.Subscribe(buffer)
	for i := 0; i < buffer+7; i++ {
		bus.publish(Event{})
	}
	if sub.Dropped() != 7 {
		t.Fatalf("dropped %d, want 7", sub.Dropped())
	}
	bus.close()
	var want uint64 = 1
	for e := range sub.C {
		if e.Seq != want {
			t.Fatalf("got event %d, want %d", e.Seq, want)
		}
		want++
	}
	if want != buffer+1 {
		t.Fatalf("delivered %d events, want %d", want-1, buffer)
	}
}

// Close never waits for a reader that went away, even with events queued.
func TestCloseWithEventsQueuedReturns(t *testing.T) {
	bus := NewBus()
	sub := bus.Subscribe(4 * chanBuffer)
	for i := 0; i < 3*chanBuffer; i++ {
		bus.publish(Event{})
	}
	sub.Close()
	n := 0
	for range sub.C {
		n++
	}
	if n != chanBuffer {
		t.Fatalf("read %d events after Close, want the %d in the channel", n, chanBuffer)
	}
	bus.publish(Event{}) // no longer offered to sub
	bus.close()
}
