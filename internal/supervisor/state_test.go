package supervisor

import (
	"encoding/json"
	"testing"
	"time"
)

func TestLegalTransitions(t *testing.T) {
	all := []State{0, Starting, Ready, Draining, Exited}
	want := map[[2]State]bool{
		{0, Starting}:     true,
		{Starting, Ready}: true, {Starting, Draining}: true, {Starting, Exited}: true,
		{Ready, Draining}: true, {Ready, Exited}: true, {Draining, Exited}: true,
	}
	for _, from := range all {
		for _, to := range all {
			if got := canMove(from, to); got != want[[2]State{from, to}] {
				t.Errorf("%s → %s: canMove=%v", from, to, got)
			}
		}
	}
}

func TestTransitionRejectsIllegalMovesAndEmitsLegalOnes(t *testing.T) {
	s := New(Options{})
	sub := s.Events().Subscribe(10)
	w := &worker{state: Draining, stop: CauseShutdown}
	if err := s.transition(w, Ready, CauseNotified); err == nil {
		t.Fatal("draining → ready accepted")
	}
	if w.state != Draining || len(sub.C) != 0 {
		t.Fatalf("state changed to %s, or an event was emitted", w.state)
	}
	if err := s.transition(w, Exited, w.exitCause()); err != nil || w.exitAt.IsZero() {
		t.Fatalf("draining → exited: %v", err)
	}
	e := <-sub.C
	if e.Kind != KindWorker || e.From != Draining || e.To != Exited || e.Cause != CauseDrained || e.Exit == nil || e.Seq != 1 {
		t.Fatalf("event %+v", e)
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	want := []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}
	for n, w := range want {
		if got := backoff(n); got != w {
			t.Errorf("backoff(%d) = %s, want %s", n, got, w)
		}
	}
	if got := backoff(100); got != BackoffMax {
		t.Errorf("backoff(100) = %s, want the cap %s", got, BackoffMax)
	}
}

func TestEnumsRoundTripAsText(t *testing.T) {
	b, err := json.Marshal(WorkerStatus{State: Draining})
	if err != nil || !json.Valid(b) {
		t.Fatal(err)
	}
	var ws WorkerStatus
	if err := json.Unmarshal(b, &ws); err != nil || ws.State != Draining {
		t.Fatalf("%s → %+v %v", b, ws, err)
	}
	for _, c := range []Cause{CauseStarted, CauseForced} {
		var back Cause
		text, _ := c.MarshalText()
		if err := back.UnmarshalText(text); err != nil || back != c {
			t.Fatalf("%s: %v", c, err)
		}
	}
	var p Phase
	if err := p.UnmarshalText([]byte("sideways")); err == nil {
		t.Fatal("unknown phase accepted")
	}
	if Phase(42).String() != "Phase(42)" {
		t.Fatal(Phase(42).String())
	}
}
