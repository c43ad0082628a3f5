package clock

import (
	"testing"
	"time"
)

func TestFakeFiresInDeadlineOrderOnlyWhenAdvanced(t *testing.T) {
	c := NewFake()
	start := c.Now()
	var fired []string
	c.AfterFunc(30*time.Millisecond, func() { fired = append(fired, "b") })
	c.AfterFunc(10*time.Millisecond, func() { fired = append(fired, "a") })
	stopped := c.AfterFunc(20*time.Millisecond, func() { fired = append(fired, "x") })
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop must report true once, then false")
	}
	c.Advance(9 * time.Millisecond)
	if len(fired) != 0 || c.Pending() != 2 {
		t.Fatalf("fired early: %v", fired)
	}
	c.Advance(time.Second)
	if len(fired) != 2 || fired[0] != "a" || fired[1] != "b" {
		t.Fatalf("fired %v, want [a b]", fired)
	}
	if got := c.Now().Sub(start); got != time.Second+9*time.Millisecond {
		t.Fatalf("time moved %s", got)
	}
}

func TestFakeTimerArmedByATimerFiresInTheSameAdvance(t *testing.T) {
	c := NewFake()
	n := 0
	c.AfterFunc(time.Millisecond, func() {
		n++
		c.AfterFunc(time.Millisecond, func() { n++ })
	})
	ch := c.Changed()
	c.AfterFunc(time.Hour, func() {})
	select {
	case <-ch:
	default:
		t.Fatal("Changed not closed by a new timer")
	}
	c.Advance(5 * time.Millisecond)
	if n != 2 {
		t.Fatalf("n = %d, want 2", n)
	}
}
