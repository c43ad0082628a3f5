package supervisor

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/proc"
	"github.com/batonhq/baton/internal/wire"
)

// limitLauncher wraps the fake launcher: its processes can be sent
// notify datagrams by the test, leave the rotation, and count requests.
type limitLauncher struct {
	*fakeLauncher
	mu    sync.Mutex
	procs map[int]*limitProc
	count int          // launches so far
	deaf  map[int]bool // launches (1, 2, ...) whose READY=1 is dropped
}

type limitProc struct {
	*fakeProc
	notify  func(wire.Notify)
	benched bool
	limit   uint64
	reached func()
}

func (p *limitProc) LeaveRotation() {
	p.l.mu.Lock()
	defer p.l.mu.Unlock()
	p.benched = true
}

func (p *limitProc) LimitRequests(n uint64, reached func()) {
	p.l.mu.Lock()
	defer p.l.mu.Unlock()
	p.limit, p.reached = n, reached
}

var (
	_ proc.RotationLeaver = (*limitProc)(nil)
	_ proc.RequestLimiter = (*limitProc)(nil)
)

func newLimitLauncher() *limitLauncher {
	return &limitLauncher{fakeLauncher: newFake(), procs: map[int]*limitProc{}, deaf: map[int]bool{}}
}

// neverReady makes the next launch never ready.
func (f *limitLauncher) neverReady() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deaf[f.count+1] = true
}

func (f *limitLauncher) Launch(l proc.Launch, onNotify func(wire.Notify), onExit func(proc.Exit)) (proc.Process, error) {
	f.mu.Lock()
	f.count++
	deaf := f.deaf[f.count]
	f.mu.Unlock()
	inner := onNotify
	if deaf {
		inner = func(n wire.Notify) { n.Ready = false; onNotify(n) }
	}
	p, err := f.fakeLauncher.Launch(l, inner, onExit)
	if err != nil {
		return nil, err
	}
	lp := &limitProc{fakeProc: p.(*fakeProc), notify: onNotify}
	f.mu.Lock()
	f.procs[lp.pid] = lp
	f.mu.Unlock()
	return lp, nil
}

func (f *limitLauncher) get(pid int) *limitProc {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.procs[pid]
}

// limits runs n workers with edit applied to the config's limits; the
// jitter is always its largest value.
func runLimits(t *testing.T, f *limitLauncher, n int, edit func(*Options)) *harness {
	return run(t, f.fakeLauncher, n, func(o *Options) {
		o.Launcher = f
		o.Jitter = func(n int64) int64 { return n - 1 }
		if edit != nil {
			edit(o)
		}
	})
}

func isWorker(to State, cause Cause) func(Event) bool {
	return func(e Event) bool { return e.Kind == KindWorker && e.To == to && e.Cause == cause }
}

func pidOf(t *testing.T, st Status, slot int) int {
	t.Helper()
	for _, w := range st.Workers {
		if w.Slot == slot && w.State == Ready {
			return w.PID
		}
	}
	t.Fatalf("no ready worker in slot %d: %+v", slot, st.Workers)
	return 0
}

// waitRecycled waits until the slot's worker was replaced with cause: the
// new one ready, the old one drained with the same cause and exited.
func (h *harness) waitRecycled(old int, cause Cause) (newPID int) {
	h.t.Helper()
	e := h.waitEvent("replacement starts", isWorker(Starting, cause))
	newPID = e.PID
	h.waitEvent("replacement ready", func(e Event) bool { return e.Kind == KindWorker && e.To == Ready && e.PID == newPID })
	h.waitEvent("old worker drains", func(e Event) bool {
		return e.Kind == KindWorker && e.To == Draining && e.PID == old && e.Cause == cause
	})
	h.waitEvent("old worker exits", func(e Event) bool { return e.Kind == KindWorker && e.To == Exited && e.PID == old })
	return newPID
}

func watchdog(d time.Duration) func(*Options) {
	return func(o *Options) { o.Config.Limits.Watchdog = d }
}

func TestWatchdogPingsKeepAWorkerAndASilentOneIsReplacedSurgeFirst(t *testing.T) {
	f := newLimitLauncher()
	h := runLimits(t, f, 1, watchdog(time.Second))
	if l := f.launched()[0]; l.Watchdog != time.Second {
		t.Fatalf("launch %+v: no watchdog interval for WATCHDOG_USEC", l)
	}
	pid := pidOf(t, h.status(), 0)
	for i := 0; i < 5; i++ {
		h.advance(600 * time.Millisecond)
		f.get(pid).notify(wire.Notify{Watchdog: true})
	}
	h.advance(600 * time.Millisecond) // 3 s in all, never 1 s without a ping
	if st := h.status(); pidOf(t, st, 0) != pid || st.Recycled != nil {
		t.Fatalf("a pinging worker was replaced: %+v", st)
	}
	h.advance(time.Second)
	note := h.waitEvent("watchdog note", func(e Event) bool { return e.Kind == KindNote && e.Cause == CauseWatchdog })
	if note.PID != pid || !strings.Contains(note.Text, "sent no WATCHDOG=1 within 1s") {
		t.Fatalf("note %+v", note)
	}
	newPID := h.waitRecycled(pid, CauseWatchdog)
	if !f.get(pid).benched {
		t.Fatal("the hung worker stayed in the proxy's rotation")
	}
	want := []string{"start g1 s0 p101", "start g1 s0 p102", "signal terminated p101"}
	if got := f.events(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("order %v, want %v (surge: new first)", got, want)
	}
	st := h.status()
	if st.Recycled[CauseWatchdog] != 1 || st.Workers[0].Restarts != 1 || st.Workers[0].PID != newPID {
		t.Fatalf("status %+v", st)
	}
	// The new worker's clock started at its ready: it too must ping.
	h.advance(time.Second)
	h.waitRecycled(newPID, CauseWatchdog)
}

func TestWatchdogTriggerAndOwnInterval(t *testing.T) {
	f := newLimitLauncher()
	h := runLimits(t, f, 1, watchdog(time.Second))
	pid := pidOf(t, h.status(), 0)
	f.get(pid).notify(wire.Notify{WatchdogUSec: 3 * time.Second, HasWatchdogUSec: true})
	h.advance(2 * time.Second)
	if pidOf(t, h.status(), 0) != pid {
		t.Fatal("replaced within its own WATCHDOG_USEC")
	}
	h.advance(1100 * time.Millisecond)
	pid = h.waitRecycled(pid, CauseWatchdog)

	f.get(pid).notify(wire.Notify{HasWatchdogUSec: true}) // WATCHDOG_USEC=0: off
	h.advance(time.Hour)
	if pidOf(t, h.status(), 0) != pid {
		t.Fatal("replaced with its watchdog off")
	}
	f.get(pid).notify(wire.Notify{WatchdogTrigger: true})
	note := h.waitEvent("trigger note", func(e Event) bool { return e.Kind == KindNote && e.Cause == CauseWatchdog })
	if !strings.Contains(note.Text, "WATCHDOG=trigger") {
		t.Fatalf("note %q", note.Text)
	}
	h.waitRecycled(pid, CauseWatchdog)
}

// Without --watchdog, pings are ignored, but an app may turn its own
// watchdog on with WATCHDOG_USEC=, as under systemd.
func TestWatchdogOffIgnoresPingsButTakesAnInterval(t *testing.T) {
	f := newLimitLauncher()
	h := runLimits(t, f, 1, nil)
	pid := pidOf(t, h.status(), 0)
	f.get(pid).notify(wire.Notify{Watchdog: true})
	h.advance(time.Hour)
	if pidOf(t, h.status(), 0) != pid {
		t.Fatal("replaced without a watchdog")
	}
	f.get(pid).notify(wire.Notify{WatchdogUSec: 2 * time.Second, HasWatchdogUSec: true})
	h.advance(2 * time.Second)
	h.waitRecycled(pid, CauseWatchdog)
}

// A hung worker whose replacement never becomes ready is stopped anyway,
// and its slot respawns like after a crash.
func TestWatchdogDrainsTheHungWorkerWhenItsReplacementFails(t *testing.T) {
	f := newLimitLauncher()
	h := runLimits(t, f, 1, func(o *Options) { o.Config.Limits.Watchdog = time.Second; o.Config.ReadyTimeout = 5 * time.Second })
	pid := pidOf(t, h.status(), 0)
	f.neverReady()
	h.advance(time.Second)
	e := h.waitEvent("replacement starts", isWorker(Starting, CauseWatchdog))
	h.advance(5 * time.Second)
	h.waitEvent("replacement times out", func(ev Event) bool { return ev.Kind == KindWorker && ev.To == Exited && ev.PID == e.PID })
	h.waitEvent("hung worker drains", func(ev Event) bool {
		return ev.Kind == KindWorker && ev.To == Draining && ev.PID == pid && ev.Cause == CauseWatchdog
	})
	h.waitEvent("hung worker exits", func(ev Event) bool { return ev.Kind == KindWorker && ev.To == Exited && ev.PID == pid })
	h.waitEvent("slot respawns", isWorker(Starting, CauseStarted))
	h.waitEvent("respawn ready", func(ev Event) bool { return ev.Kind == KindWorker && ev.To == Ready })
}

func TestMaxLifetimeRecyclesWithJitterOneSlotAtATime(t *testing.T) {
	f := newLimitLauncher()
	h := runLimits(t, f, 3, func(o *Options) { o.Config.Limits.MaxLifetime = 10 * time.Second })
	h.advance(10*time.Second + 900*time.Millisecond) // the jitter is up to 10%: 1 s here
	if st := h.status(); st.Recycled != nil {
		t.Fatalf("recycled before its lifetime and jitter: %+v", st.Recycled)
	}
	h.advance(200 * time.Millisecond)
	for i := 0; i < 3; i++ {
		h.waitEvent("old worker exits", func(e Event) bool { return e.Kind == KindWorker && e.To == Exited && e.Stop == CauseMaxLifetime })
	}
	// --parallel 1: each recycle's old worker is stopped before the next starts.
	starts := 0
	for _, e := range f.events()[3:] {
		switch {
		case strings.HasPrefix(e, "start"):
			starts++
		case strings.HasPrefix(e, "signal"):
			starts--
		}
		if starts > 1 {
			t.Fatalf("two recycles at once with --parallel 1: %v", f.events())
		}
	}
	if st := h.status(); st.Recycled[CauseMaxLifetime] != 3 || countReady(st) != 3 || gens(st)[1] != 3 || st.Workers[0].Restarts != 0 {
		t.Fatalf("status %+v", st)
	}
}

func TestMaxLifetimeRespectsParallel(t *testing.T) {
	h := runLimits(t, newLimitLauncher(), 4, func(o *Options) {
		o.Config.Limits.MaxLifetime = time.Minute
		o.Config.Parallel = 2
		o.Config.ReadyTimeout = time.Hour
	})
	// Replacements stay starting, so the ones in flight can be counted.
	h.f.set(func(f *fakeLauncher) { f.mute[1] = true })
	h.advance(time.Minute + 6*time.Second)
	h.waitEvent("first replacement", isWorker(Starting, CauseMaxLifetime))
	h.waitEvent("second replacement", isWorker(Starting, CauseMaxLifetime))
	st := h.status()
	starting := 0
	for _, w := range st.Workers {
		if w.State == Starting {
			starting++
		}
	}
	if starting != 2 || st.Recycled[CauseMaxLifetime] != 2 {
		t.Fatalf("%d replacements in flight with --parallel 2: %+v", starting, st)
	}
}

func TestMaxMemoryRecyclesTheWorkerOverIt(t *testing.T) {
	f := newLimitLauncher()
	var mu sync.Mutex
	use := map[int]int64{}
	h := runLimits(t, f, 2, func(o *Options) {
		o.Config.Limits.MaxMemory = 100 << 20
		o.Config.ReadyTimeout = time.Hour // the checks below advance the clock while a replacement starts
		o.MemoryKind = "test memory"
		o.Memory = func(pids []int) map[int]int64 {
			mu.Lock()
			defer mu.Unlock()
			out := map[int]int64{}
			for _, p := range pids {
				out[p] = use[p]
			}
			return out
		}
	})
	st := h.status()
	a, b := pidOf(t, st, 0), pidOf(t, st, 1)
	mu.Lock()
	use[a], use[b] = 100<<20, 150<<20 // a is at the limit, b over it
	mu.Unlock()
	h.advance(DefaultLimitsInterval)
	note := h.waitEvent("memory note", func(e Event) bool { return e.Kind == KindNote && e.Cause == CauseMemory })
	if note.PID != b || !strings.Contains(note.Text, "uses 150.0 MiB (test memory), over --max-memory 100M") {
		t.Fatalf("note %+v", note)
	}
	h.waitRecycled(b, CauseMemory)
	if st := h.status(); pidOf(t, st, 0) != a || st.Recycled[CauseMemory] != 1 || st.Workers[1].Restarts != 0 {
		t.Fatalf("status %+v", st)
	}
	// The check goes on: a, over the limit now, is next.
	mu.Lock()
	use[a] = 101 << 20
	mu.Unlock()
	for i := 0; i < 5; i++ {
		h.advance(DefaultLimitsInterval)
	}
	h.waitRecycled(a, CauseMemory)
}

func TestMaxRequestsRecyclesWhenTheProxyCountReachesIt(t *testing.T) {
	f := newLimitLauncher()
	h := runLimits(t, f, 1, func(o *Options) { o.Config.Limits.MaxRequests = 1000 })
	pid := pidOf(t, h.status(), 0)
	p := f.get(pid)
	f.mu.Lock()
	limit, reached := p.limit, p.reached
	f.mu.Unlock()
	if limit != 1100 || reached == nil { // 1000 plus the largest jitter, 10%
		t.Fatalf("limit %d", limit)
	}
	reached()
	note := h.waitEvent("requests note", func(e Event) bool { return e.Kind == KindNote && e.Cause == CauseMaxRequests })
	if !strings.Contains(note.Text, "served its --max-requests 1000") {
		t.Fatalf("note %q", note.Text)
	}
	h.waitRecycled(pid, CauseMaxRequests)
}

// A recycle asked for during a rollout waits for its end; a recycle in
// flight when a rollout begins is stopped and tried again after it (here
// the rollout fails, so the old worker is still there).
func TestRecyclesWaitForRollouts(t *testing.T) {
	f := newLimitLauncher()
	h := runLimits(t, f, 2, func(o *Options) { o.Config.ReadyTimeout = 5 * time.Second })
	st := h.status()
	a, b := pidOf(t, st, 0), pidOf(t, st, 1)
	f.set(func(f *fakeLauncher) { f.mute[2] = true })
	f.neverReady()
	f.get(a).notify(wire.Notify{WatchdogTrigger: true})
	inflight := h.waitEvent("a's replacement starts", isWorker(Starting, CauseWatchdog))
	ro, err := h.s.Reload(t.Context(), ReloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h.waitEvent("the replacement is stopped", func(e Event) bool {
		return e.Kind == KindWorker && e.To == Draining && e.PID == inflight.PID && e.Cause == CauseAborted
	})
	f.get(b).notify(wire.Notify{WatchdogTrigger: true})
	h.waitEvent("b's recycle is asked", func(e Event) bool { return e.Kind == KindNote && e.PID == b })
	if st := h.status(); st.Recycled[CauseWatchdog] != 1 {
		t.Fatalf("a recycle started during the rollout: %+v", st)
	}
	h.advance(5 * time.Second)
	if r := h.outcome(ro); r.State != RolloutFailed {
		t.Fatalf("rollout %+v", r)
	}
	gone := map[int]bool{}
	for len(gone) < 2 {
		e := h.waitEvent("old workers recycled", func(e Event) bool {
			return e.Kind == KindWorker && e.To == Exited && (e.PID == a || e.PID == b) && e.Stop == CauseWatchdog
		})
		gone[e.PID] = true
	}
	if st := h.status(); countReady(st) != 2 || st.Recycled[CauseWatchdog] != 3 {
		t.Fatalf("status %+v", st)
	}
}

// A replacement that never becomes ready leaves the old worker serving;
// its recycle is tried again after RecycleRetry.
func TestFailedRecycleKeepsTheOldWorkerAndRetries(t *testing.T) {
	f := newLimitLauncher()
	h := runLimits(t, f, 1, func(o *Options) { o.Config.Limits.MaxLifetime = time.Minute; o.Config.ReadyTimeout = 5 * time.Second })
	pid := pidOf(t, h.status(), 0)
	f.neverReady()
	h.advance(time.Minute + 6*time.Second)
	h.waitEvent("replacement starts", isWorker(Starting, CauseMaxLifetime))
	h.advance(5 * time.Second)
	note := h.waitEvent("failure note", func(e Event) bool { return e.Kind == KindNote && strings.Contains(e.Text, "failed") })
	if !strings.Contains(note.Text, "was not ready within --ready-timeout 5s") || !strings.Contains(note.Text, "keeps serving") {
		t.Fatalf("note %q", note.Text)
	}
	if st := h.status(); pidOf(t, st, 0) != pid || len(st.Workers) != 1 {
		t.Fatalf("status %+v", st)
	}
	h.advance(RecycleRetry)
	h.waitRecycled(pid, CauseMaxLifetime)
}

func TestRecycleCauses(t *testing.T) {
	for _, c := range []Cause{CauseWatchdog, CauseMemory, CauseMaxRequests, CauseMaxLifetime} {
		var back Cause
		if !c.Recycle() || back.UnmarshalText([]byte(c.String())) != nil || back != c {
			t.Fatalf("%v", c)
		}
	}
	if CauseRollout.Recycle() || CauseOutput.Recycle() {
		t.Fatal("not recycles")
	}
	_ = config.Limits{}
}
