package supervisor

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/config"
)

func TestSurgeStartsNewBeforeStoppingOld(t *testing.T) {
	f := newFake()
	s, stop := run(t, f, 2, nil)
	defer stop()
	st, err := s.Reload(context.Background(), ReloadOptions{}, nil)
	if err != nil || st.State != "done" || st.Replaced != 2 {
		t.Fatalf("%v %+v", err, st)
	}
	want := []string{"start g1 s0 p101", "start g1 s1 p102",
		"start g2 s0 p103", "signal terminated p101", "start g2 s1 p104", "signal terminated p102"}
	if got := f.events(); !slices.Equal(got, want) {
		t.Fatalf("order\n got %v\nwant %v", got, want)
	}
}

func TestReplaceStopsOldFirst(t *testing.T) {
	f := newFake()
	s, stop := run(t, f, 2, nil)
	defer stop()
	if _, err := s.Reload(context.Background(), ReloadOptions{Strategy: "replace"}, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"start g1 s0 p101", "start g1 s1 p102",
		"signal terminated p101", "start g2 s0 p103", "signal terminated p102", "start g2 s1 p104"}
	if got := f.events(); !slices.Equal(got, want) {
		t.Fatalf("order\n got %v\nwant %v", got, want)
	}
}

func TestBrokenGenerationLeavesOldWorkersAndNextReloadWorks(t *testing.T) {
	f := newFake()
	f.broken[2] = true
	s, stop := run(t, f, 3, nil)
	defer stop()
	progress := make(chan Progress, 100)
	st, err := s.Reload(context.Background(), ReloadOptions{}, progress)
	if err != nil || st.State != "failed" || st.Replaced != 0 {
		t.Fatalf("%v %+v", err, st)
	}
	if !strings.Contains(st.Error, "slot 0") || !strings.Contains(st.Error, "exit status 1") || st.Output[0] != "last words" {
		t.Fatalf("report: %+v", st)
	}
	for _, e := range f.events() {
		if strings.HasPrefix(e, "signal") || strings.HasPrefix(e, "kill") {
			t.Fatalf("an old worker was touched: %v", f.events())
		}
	}
	if g := gens(waitStatus(t, s, func(st Status) bool { return countReady(st) == 3 })); g[1] != 3 {
		t.Fatalf("generations %v", g)
	}
	var steps []string
	for p := range progress {
		steps = append(steps, p.Step)
	}
	if !slices.Equal(steps, []string{"started", "spawned", "failed", "failed"}) {
		t.Fatalf("progress steps %v", steps)
	}
	f.broken[3] = false
	st, err = s.Reload(context.Background(), ReloadOptions{}, nil)
	if err != nil || st.State != "done" || st.Generation != 3 {
		t.Fatalf("next reload: %v %+v", err, st)
	}
}

func TestNeverReadyAbortsAtReadyTimeout(t *testing.T) {
	f := newFake()
	f.mute[2] = true
	s, stop := run(t, f, 2, func(c *config.Config) { c.ReadyTimeout = 100 * time.Millisecond })
	defer stop()
	start := time.Now()
	st, err := s.Reload(context.Background(), ReloadOptions{}, nil)
	if err != nil || st.State != "failed" || !strings.Contains(st.Error, "not ready within --ready-timeout 100ms") {
		t.Fatalf("%v %+v", err, st)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Fatal("aborted before the ready timeout")
	}
}

func TestStubbornOldWorkersAreKilledAndCounted(t *testing.T) {
	f := newFake()
	s, stop := run(t, f, 2, func(c *config.Config) { c.StopTimeout = 50 * time.Millisecond })
	defer stop()
	f.mu.Lock()
	f.stubborn = true
	f.mu.Unlock()
	st, err := s.Reload(context.Background(), ReloadOptions{}, nil)
	if err != nil || st.State != "done" || st.Killed != 2 {
		t.Fatalf("%v %+v", err, st)
	}
	f.mu.Lock()
	f.stubborn = false
	f.mu.Unlock()
}

func TestRefusalsChangeNothing(t *testing.T) {
	f := newFake()
	f.mute[2] = true
	s, stop := run(t, f, 1, func(c *config.Config) { c.ReadyTimeout = time.Second })
	defer stop()
	var refused *RefusedError
	if _, err := s.Reload(context.Background(), ReloadOptions{Strategy: "replace"}, nil); !errors.As(err, &refused) {
		t.Fatalf("replace with 1 worker: %v", err)
	}
	go func() { _, _ = s.Reload(context.Background(), ReloadOptions{}, nil) }()
	waitStatus(t, s, func(st Status) bool { return st.Rollout != nil && st.Rollout.State == "running" })
	_, err := s.Reload(context.Background(), ReloadOptions{}, nil)
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "already running (0 of 1 slots replaced)") {
		t.Fatalf("concurrent reload: %v", err)
	}
	if err := s.Scale(context.Background(), 3); !errors.As(err, &refused) {
		t.Fatalf("scale during rollout: %v", err)
	}
}

func TestChangesDuringRolloutQueueExactlyOneMore(t *testing.T) {
	f := newFake()
	s, stop := run(t, f, 1, func(c *config.Config) { c.ReadyTimeout = 200 * time.Millisecond })
	defer stop()
	f.mu.Lock()
	f.mute[2] = true // rollout 1 hangs until its ready timeout
	f.mu.Unlock()
	s.Changed([]string{"/srv/current"})
	waitStatus(t, s, func(st Status) bool { return st.Rollout != nil && st.Rollout.State == "running" })
	for i := 0; i < 5; i++ {
		s.Changed([]string{"/srv/current"})
	}
	st := waitStatus(t, s, func(st Status) bool {
		return st.Rollout != nil && st.Rollout.ID == 2 && st.Rollout.State == "done"
	})
	if g := gens(st); g[3] != 1 {
		t.Fatalf("generations %v", g)
	}
	time.Sleep(300 * time.Millisecond) // no third rollout follows
	if st := waitStatus(t, s, func(Status) bool { return true }); st.Rollout.ID != 2 {
		t.Fatalf("rollouts: %d, want exactly 2", st.Rollout.ID)
	}
}

func TestCrashRespawnsWithGrowingBackoff(t *testing.T) {
	f := newFake()
	s, stop := run(t, f, 1, nil)
	defer stop()
	var spawns []time.Time
	for i := 0; i < 4; i++ {
		st := waitStatus(t, s, func(st Status) bool { return countReady(st) == 1 })
		spawns = append(spawns, time.Now())
		f.mu.Lock()
		p := f.procs[st.Workers[0].PID]
		f.mu.Unlock()
		p.crash("signal killed")
		waitStatus(t, s, func(st Status) bool { return len(st.Workers) == 0 || st.Workers[0].PID != p.pid })
	}
	st := waitStatus(t, s, func(st Status) bool { return countReady(st) == 1 })
	if st.Workers[0].Restarts != 4 {
		t.Fatalf("restarts %d", st.Workers[0].Restarts)
	}
	if gap := time.Since(spawns[3]); gap < 200*time.Millisecond {
		t.Fatalf("4th consecutive crash respawned after %s, want >= 200ms backoff", gap)
	}
}

func TestStopDrainsEveryWorker(t *testing.T) {
	f := newFake()
	s, stop := run(t, f, 3, nil)
	if err := s.Stop(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	stop()
	n := 0
	for _, e := range f.events() {
		if strings.HasPrefix(e, "signal terminated") {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("stop signalled %d workers: %v", n, f.events())
	}
}
