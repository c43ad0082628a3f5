package supervisor

import (
	"testing"
	"time"
)

func TestLegalTransitions(t *testing.T) {
	all := []State{Starting, Ready, Draining, Exited}
	want := map[[2]State]bool{
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

func TestTransitionRejectsIllegalMoves(t *testing.T) {
	s := New(Options{})
	w := &worker{state: Draining}
	if err := s.transition(w, Ready); err == nil {
		t.Fatal("draining → ready accepted")
	}
	if w.state != Draining {
		t.Fatalf("state changed to %s", w.state)
	}
	if err := s.transition(w, Exited); err != nil || w.exitAt.IsZero() {
		t.Fatalf("draining → exited: %v", err)
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
