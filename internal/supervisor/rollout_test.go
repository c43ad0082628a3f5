package supervisor

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/config"
)

func TestSurgeStartsNewBeforeStoppingOld(t *testing.T) {
	h := run(t, newFake(), 2, nil)
	st, err := h.reload(ReloadOptions{})
	if err != nil || st.State != RolloutDone || st.Replaced != 2 {
		t.Fatalf("%v %+v", err, st)
	}
	want := []string{"start g1 s0 p101", "start g1 s1 p102",
		"start g2 s0 p103", "signal terminated p101", "start g2 s1 p104", "signal terminated p102"}
	if got := h.f.events(); !slices.Equal(got, want) {
		t.Fatalf("order\n got %v\nwant %v", got, want)
	}
}

func TestReplaceStopsOldFirst(t *testing.T) {
	h := run(t, newFake(), 2, nil)
	if _, err := h.reload(ReloadOptions{Strategy: "replace"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"start g1 s0 p101", "start g1 s1 p102",
		"signal terminated p101", "start g2 s0 p103", "signal terminated p102", "start g2 s1 p104"}
	if got := h.f.events(); !slices.Equal(got, want) {
		t.Fatalf("order\n got %v\nwant %v", got, want)
	}
}

func TestBrokenGenerationLeavesOldWorkersAndNextReloadWorks(t *testing.T) {
	f := newFake()
	f.broken[2] = true
	h := run(t, f, 3, nil)
	st, err := h.reload(ReloadOptions{})
	if err != nil || st.State != RolloutFailed || st.Replaced != 0 {
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
	var steps []string
	for {
		e := h.waitEvent("rollout 1 steps", func(e Event) bool { return e.Kind == KindRollout })
		steps = append(steps, e.Step.String())
		if e.Final() {
			break
		}
	}
	if !slices.Equal(steps, []string{"started", "spawned", "failed", "done"}) {
		t.Fatalf("progress steps %v", steps)
	}
	if g := gens(h.status()); g[1] != 3 || countReady(h.status()) != 3 {
		t.Fatalf("generations %v", g)
	}
	f.set(func(f *fakeLauncher) { f.broken[3] = false })
	st, err = h.reload(ReloadOptions{})
	if err != nil || st.State != RolloutDone || st.Generation != 3 {
		t.Fatalf("next reload: %v %+v", err, st)
	}
}

func TestNeverReadyAbortsAtReadyTimeoutAndNotBefore(t *testing.T) {
	f := newFake()
	f.mute[2] = true
	h := run(t, f, 2, func(o *Options) { o.Config.ReadyTimeout = 100 * time.Millisecond })
	ro, err := h.s.Reload(context.Background(), ReloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h.waitEvent("new worker spawned", isStep(ro.ID, StepSpawned))
	h.advance(99 * time.Millisecond)
	h.status() // every event before this request is handled
	select {
	case st := <-ro.Done:
		t.Fatalf("ended before the ready timeout: %+v", st)
	default:
	}
	h.advance(time.Millisecond)
	st := h.outcome(ro)
	if st.State != RolloutFailed || !strings.Contains(st.Error, "not ready within --ready-timeout 100ms") {
		t.Fatalf("%+v", st)
	}
	e := h.waitEvent("the new worker's exit", func(e Event) bool { return e.Kind == KindWorker && e.To == Exited })
	if e.Generation != 2 || e.Cause != CauseDrained {
		t.Fatalf("exit event %+v", e)
	}
}

func TestStubbornOldWorkersAreKilledAfterStopTimeoutAndCounted(t *testing.T) {
	f := newFake()
	h := run(t, f, 2, func(o *Options) { o.Config.StopTimeout = 50 * time.Millisecond })
	f.set(func(f *fakeLauncher) { f.stubborn = true })
	ro, err := h.s.Reload(context.Background(), ReloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Surge: each old worker drains once its replacement is ready, so
	// both drain at once, on the same stop deadline.
	for i := 0; i < 2; i++ {
		h.waitEvent("old worker draining", func(e Event) bool { return e.Kind == KindWorker && e.To == Draining })
	}
	h.advance(49 * time.Millisecond)
	h.status()
	if strings.Contains(strings.Join(f.events(), " "), "kill") {
		t.Fatalf("killed before --stop-timeout: %v", f.events())
	}
	h.advance(time.Millisecond)
	for i := 0; i < 2; i++ {
		e := h.waitEvent("old worker killed", func(e Event) bool { return e.Kind == KindWorker && e.To == Exited })
		if e.Cause != CauseKilled || e.Exit == nil || e.Exit.String() != "signal killed" {
			t.Fatalf("exit event %+v", e)
		}
	}
	if st := h.outcome(ro); st.State != RolloutDone || st.Killed != 2 {
		t.Fatalf("%+v", st)
	}
	f.set(func(f *fakeLauncher) { f.stubborn = false })
}

func TestRefusalsChangeNothingAndWrapTheirCause(t *testing.T) {
	f := newFake()
	f.mute[2] = true
	h := run(t, f, 1, nil)
	var refused *RefusedError
	if _, err := h.s.Reload(context.Background(), ReloadOptions{Strategy: "replace"}); !errors.As(err, &refused) || !errors.Is(err, ErrUnsafe) {
		t.Fatalf("replace with 1 worker: %v", err)
	}
	if _, err := h.s.Reload(context.Background(), ReloadOptions{Strategy: "sideways"}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "valid is surge or replace") {
		t.Fatalf("bad strategy: %v", err)
	}
	ro, err := h.s.Reload(context.Background(), ReloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h.waitEvent("rollout running", isStep(ro.ID, StepSpawned))
	_, err = h.s.Reload(context.Background(), ReloadOptions{})
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "already running (0 of 1 slots replaced)") {
		t.Fatalf("concurrent reload: %v", err)
	}
	if err := h.s.Scale(context.Background(), 3); !errors.Is(err, ErrBusy) {
		t.Fatalf("scale during rollout: %v", err)
	}
	if err := h.s.Stop(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.Reload(context.Background(), ReloadOptions{}); !errors.Is(err, ErrStopping) || !errors.As(err, &refused) {
		t.Fatalf("reload while stopping: %v", err)
	}
	if err := h.s.Scale(context.Background(), 2); !errors.Is(err, ErrStopping) {
		t.Fatalf("scale while stopping: %v", err)
	}
}

func TestChangesDuringRolloutQueueExactlyOneMore(t *testing.T) {
	f := newFake()
	h := run(t, f, 1, func(o *Options) { o.Config.ReadyTimeout = 200 * time.Millisecond })
	f.set(func(f *fakeLauncher) { f.mute[2] = true }) // rollout 1 hangs until its ready timeout
	h.s.Changed([]string{"/srv/current"})
	h.waitEvent("rollout 1 running", isStep(1, StepSpawned))
	for i := 0; i < 5; i++ {
		h.s.Changed([]string{"/srv/current"})
	}
	h.status()
	h.advance(200 * time.Millisecond)
	e := h.waitEvent("rollout 2 done", isStep(2, StepDone))
	if e.Rollout.State != RolloutDone || e.Rollout.Trigger != TriggerWatch {
		t.Fatalf("%+v", e.Rollout)
	}
	if g := gens(h.status()); g[3] != 1 {
		t.Fatalf("generations %v", g)
	}
	for {
		select {
		case e := <-h.sub.C:
			if e.Kind == KindRollout && e.Step == StepStarted {
				t.Fatalf("a third rollout started: %+v", e.Rollout)
			}
			continue
		default:
		}
		break
	}
}

func TestCrashRespawnsWithGrowingBackoff(t *testing.T) {
	f := newFake()
	h := run(t, f, 1, nil)
	wantDelay := []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}
	for i, d := range wantDelay {
		pid := h.status().Workers[0].PID
		f.proc(pid).crash(proc9())
		e := h.waitEvent("crash", func(e Event) bool { return e.Kind == KindWorker && e.To == Exited })
		if e.Cause != CauseCrashed || e.PID != pid || e.Exit.Code != 9 {
			t.Fatalf("crash event %+v", e)
		}
		if d > 0 {
			b := h.waitEvent("backoff", func(e Event) bool { return e.Kind == KindBackoff })
			if b.Delay != d || b.Crashes != i+1 {
				t.Fatalf("crash %d: backoff %s after %d crashes, want %s", i+1, b.Delay, b.Crashes, d)
			}
			h.advance(d - time.Millisecond)
			if st := h.status(); len(st.Workers) != 0 {
				t.Fatalf("crash %d: respawned before its %s backoff", i+1, d)
			}
			h.advance(time.Millisecond)
		}
		h.waitEvent("respawned and ready", func(e Event) bool { return e.Kind == KindWorker && e.To == Ready })
	}
	if st := h.status(); st.Workers[0].Restarts != 4 {
		t.Fatalf("restarts %d", st.Workers[0].Restarts)
	}
	// A worker that ran for StableUptime resets the count: respawn at once.
	h.advance(StableUptime)
	f.proc(h.status().Workers[0].PID).crash(proc9())
	h.waitEvent("crash", func(e Event) bool { return e.Kind == KindWorker && e.To == Exited })
	e := h.waitEvent("respawn", func(e Event) bool { return e.Kind == KindWorker && e.To == Starting || e.Kind == KindBackoff })
	if e.Kind != KindWorker {
		t.Fatalf("after a stable run the respawn waited: %+v", e)
	}
}

func TestStopDrainsEveryWorkerAndReportsPhases(t *testing.T) {
	h := run(t, newFake(), 3, nil)
	if err := h.s.Stop(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	h.waitEvent("draining phase", func(e Event) bool { return e.Kind == KindPhase && e.Phase == PhaseDraining })
	for i := 0; i < 3; i++ {
		e := h.waitEvent("worker drained", func(e Event) bool { return e.Kind == KindWorker && e.To == Exited })
		if e.Cause != CauseDrained {
			t.Fatalf("%+v", e)
		}
	}
	h.waitEvent("stopped phase", func(e Event) bool { return e.Kind == KindPhase && e.Phase == PhaseStopped })
	n := 0
	for _, e := range h.f.events() {
		if strings.HasPrefix(e, "signal terminated") {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("stop signalled %d workers: %v", n, h.f.events())
	}
}

func TestSecondStopKillsAtOnce(t *testing.T) {
	f := newFake()
	h := run(t, f, 2, nil)
	f.set(func(f *fakeLauncher) { f.stubborn = true })
	_ = h.s.Stop(context.Background(), false)
	_ = h.s.Stop(context.Background(), true)
	h.waitEvent("killing phase", func(e Event) bool { return e.Kind == KindPhase && e.Phase == PhaseKilling })
	for i := 0; i < 2; i++ {
		if e := h.waitEvent("killed", func(e Event) bool { return e.Kind == KindWorker && e.To == Exited }); e.Cause != CauseForced {
			t.Fatalf("%+v", e)
		}
	}
}

func TestReloadNotesWhatARolloutDoesNotApply(t *testing.T) {
	next := testConfig(2)
	next.Workers = 5
	h := run(t, newFake(), 2, func(o *Options) {
		o.Reconfigure = func() (config.Config, error) { return next, nil }
	})
	ro, err := h.s.Reload(context.Background(), ReloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := h.waitEvent("note", isStep(ro.ID, StepNote))
	if !strings.Contains(e.Text, "baton scale 5") {
		t.Fatalf("note %q", e.Text)
	}
	if st := h.outcome(ro); st.Total != 2 || len(h.status().Workers) != 2 {
		t.Fatalf("the pool size changed: %+v", st)
	}
}

// TestManySlotsStartInBatchesWithRequestsAnsweredBetween: a scale to many
// workers starts them startBatch a turn of the loop, so that a request
// sent meanwhile (a status, a stop) is answered after one batch, not
// after every fork and exec; every slot still gets exactly one worker.
func TestManySlotsStartInBatchesWithRequestsAnsweredBetween(t *testing.T) {
	f := newFake()
	h := run(t, f, 1, nil)
	seen := make(chan int, 1)
	f.set(func(f *fakeLauncher) {
		f.onLaunch = func(n int) {
			if n != 2 { // the scale's first launch: ask for a status now
				return
			}
			go func() {
				st, err := h.s.Status(context.Background())
				if err != nil {
					t.Error(err)
				}
				seen <- len(st.Workers)
			}()
			deadline := time.Now().Add(10 * time.Second)
			for len(h.s.events) == 0 && time.Now().Before(deadline) {
				runtime.Gosched() // until the request waits in the loop's queue
			}
		}
	})
	const n = 3*startBatch + 5
	if err := h.s.Scale(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if got := <-seen; got != 1+startBatch {
		t.Errorf("a status asked during the scale saw %d workers, want %d (the first and one batch)", got, 1+startBatch)
	}
	for i := 1; i < n; i++ {
		h.waitEvent("worker ready", func(e Event) bool { return e.Kind == KindWorker && e.To == Ready })
	}
	slots := map[int]int{}
	for _, l := range f.launched() {
		slots[l.Slot]++
	}
	if len(slots) != n {
		t.Fatalf("%d slots launched, want %d", len(slots), n)
	}
	for slot, k := range slots {
		if k != 1 {
			t.Errorf("slot %d launched %d times", slot, k)
		}
	}
}
