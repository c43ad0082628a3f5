package proxy

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestPoolPicksLeastOpenRoundRobinAmongEquals(t *testing.T) {
	p := NewPool(time.Second)
	a, b, c := NewBackend(1, 0, 1001), NewBackend(2, 1, 1002), NewBackend(3, 2, 1003)
	for _, x := range []*Backend{a, b, c} {
		p.Add(x)
	}
	seen := map[*Backend]int{}
	for i := 0; i < 6; i++ {
		x, err := p.Pick(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		seen[x]++
		x.Release()
	}
	if seen[a] != 2 || seen[b] != 2 || seen[c] != 2 {
		t.Fatalf("round-robin among equals: %v %v %v", seen[a], seen[b], seen[c])
	}
	held, _ := p.Pick(context.Background(), nil) // one open on it now
	for i := 0; i < 4; i++ {
		x, _ := p.Pick(context.Background(), map[*Backend]bool{})
		if x == held && i < 2 {
			t.Fatalf("pick %d returned the backend with an open connection", i)
		}
		defer x.Release()
	}
	held.Release()
}

func TestPoolNeverPicksARemovedBackend(t *testing.T) {
	p := NewPool(50 * time.Millisecond)
	a, b := NewBackend(1, 0, 1001), NewBackend(2, 1, 1002)
	p.Add(a)
	p.Add(b)
	p.Remove(a)
	for i := 0; i < 5; i++ {
		x, err := p.Pick(context.Background(), nil)
		if err != nil || x != b {
			t.Fatalf("pick %d: %v %v", i, x, err)
		}
		x.Release()
	}
	if _, err := p.Pick(context.Background(), map[*Backend]bool{b: true}); !errors.Is(err, ErrNoBackend) {
		t.Fatalf("every ready backend excluded: %v", err)
	}
}

func TestPoolWaitsForABackendThenGivesUp(t *testing.T) {
	p := NewPool(100 * time.Millisecond)
	if _, err := p.Pick(context.Background(), nil); !errors.Is(err, ErrNoBackend) {
		t.Fatalf("empty pool: %v", err)
	}
	if p.Counters().Waited.Load() != 1 || p.Counters().NoWorker.Load() != 1 {
		t.Fatalf("counters: waited %d, gave up %d", p.Counters().Waited.Load(), p.Counters().NoWorker.Load())
	}
	p = NewPool(time.Minute)
	got := make(chan *Backend)
	go func() {
		b, _ := p.Pick(context.Background(), nil)
		got <- b
	}()
	waitFor(t, "the pick to wait", func() bool { return p.Counters().Waited.Load() == 1 })
	b := NewBackend(1, 0, 1001)
	p.Add(b)
	if x := <-got; x != b {
		t.Fatalf("waiting pick got %v", x)
	}
}

func TestPoolCloseEndsWaitingPicks(t *testing.T) {
	p := NewPool(time.Minute)
	errc := make(chan error)
	go func() {
		_, err := p.Pick(context.Background(), nil)
		errc <- err
	}()
	waitFor(t, "the pick to wait", func() bool { return p.Counters().Waited.Load() == 1 })
	p.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestBackendDrainWaitsForOpenConnections(t *testing.T) {
	p := NewPool(time.Second)
	b := NewBackend(1, 0, 1001)
	p.Add(b)
	x, _ := p.Pick(context.Background(), nil)
	p.Remove(b)
	done := make(chan bool)
	go func() { done <- b.waitIdle(time.Minute) }()
	select {
	case <-done:
		t.Fatal("the drain ended with a connection open")
	case <-time.After(20 * time.Millisecond):
	}
	x.Release()
	if !<-done {
		t.Fatal("drain reported connections left")
	}
	y := NewBackend(2, 0, 1002)
	y.acquire()
	if y.waitIdle(10 * time.Millisecond) {
		t.Fatal("a drain past its timeout reported success")
	}
}
