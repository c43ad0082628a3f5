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
