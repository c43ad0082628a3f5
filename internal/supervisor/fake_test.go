package supervisor

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/clock"
	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/proc"
	"github.com/batonhq/baton/internal/wire"
)

// fakeLauncher starts no processes: each "process" is ready at once
// unless its generation is listed in broken (exits with status 1) or
// mute (never notifies), and exits when signalled unless stubborn.
type fakeLauncher struct {
	mu       sync.Mutex
	nextPID  int
	broken   map[int]bool
	mute     map[int]bool
	stubborn bool
	log      []string // "start g2 s0 p101", "signal p100 terminated", ...
	procs    map[int]*fakeProc
	launches []proc.Launch
	// onLaunch, when set, is called (in the supervisor's loop) after
	// each launch with how many there were so far.
	onLaunch func(n int)
}

var _ proc.Launcher = (*fakeLauncher)(nil)

type fakeProc struct {
	l      *fakeLauncher
	pid    int
	exit   func(proc.Exit)
	exited bool
	mute   bool // never notifies
}

// NotReadyBecause is what a proxy worker's readiness probe says: here,
// for a mute process only.
func (p *fakeProc) NotReadyBecause() string {
	if p.mute {
		return "last tcp probe: connection refused"
	}
	return ""
}

func newFake() *fakeLauncher {
	return &fakeLauncher{nextPID: 100, broken: map[int]bool{}, mute: map[int]bool{}, procs: map[int]*fakeProc{}}
}

func (f *fakeLauncher) Launch(l proc.Launch, onNotify func(wire.Notify), onExit func(proc.Exit)) (proc.Process, error) {
	p, hook, n := f.launch(l, onNotify, onExit)
	if hook != nil {
		hook(n)
	}
	return p, nil
}

func (f *fakeLauncher) launch(l proc.Launch, onNotify func(wire.Notify), onExit func(proc.Exit)) (proc.Process, func(int), int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextPID++
	p := &fakeProc{l: f, pid: f.nextPID, exit: onExit, mute: f.mute[l.Generation]}
	f.procs[p.pid] = p
	f.log = append(f.log, fmt.Sprintf("start g%d s%d p%d", l.Generation, l.Slot, p.pid))
	f.launches = append(f.launches, l)
	switch {
	case f.broken[l.Generation]:
		p.exited = true
		go onExit(proc.Exit{Code: 1})
	case !f.mute[l.Generation]:
		go onNotify(wire.Notify{Ready: true, Status: "up", HasStatus: true})
	}
	return p, f.onLaunch, len(f.launches)
}

func (f *fakeLauncher) set(fn func(f *fakeLauncher)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeLauncher) proc(pid int) *fakeProc {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.procs[pid]
}

func (f *fakeLauncher) launched() []proc.Launch {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]proc.Launch(nil), f.launches...)
}

func (f *fakeLauncher) events() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

func (p *fakeProc) PID() int       { return p.pid }
func (p *fakeProc) Dir() string    { return "/srv" }
func (p *fakeProc) Tail() []string { return []string{"last words"} }
func (p *fakeProc) Release()       {}
func (p *fakeProc) KillGroup()     { p.die(proc.Exit{Signal: syscall.SIGKILL}, "kill") }
func (p *fakeProc) crash(e proc.Exit) {
	p.die(e, "crash")
}
func (p *fakeProc) Signal(sig syscall.Signal) error {
	p.l.mu.Lock()
	stubborn := p.l.stubborn
	p.l.mu.Unlock()
	if !stubborn {
		p.die(proc.Exit{}, "signal "+sig.String())
	}
	return nil
}

func (p *fakeProc) die(exit proc.Exit, why string) {
	p.l.mu.Lock()
	defer p.l.mu.Unlock()
	if p.exited {
		return
	}
	p.exited = true
	p.l.log = append(p.l.log, fmt.Sprintf("%s p%d", why, p.pid))
	go p.exit(exit)
}

// harness is a supervisor on a fake launcher and a fake clock, with a
// subscription to its events.
type harness struct {
	t     *testing.T
	s     *Supervisor
	f     *fakeLauncher
	clock *clock.Fake
	sub   *Subscription
	done  chan error
	stop  context.CancelFunc
	once  sync.Once
}

// testConfig is the config of n workers the tests start from.
func testConfig(n int) config.Config {
	return config.Config{Name: "t", Workers: n, Command: []string{"app"}, Ready: config.Readiness{Kind: config.ReadyNotify},
		ReadyTimeout: 2 * time.Second, StopSignal: syscall.SIGTERM, StopTimeout: 2 * time.Second,
		Strategy: config.StrategySurge, Parallel: 1}
}

// run starts a supervisor of n workers on f and waits until they are ready.
func run(t *testing.T, f *fakeLauncher, n int, edit func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, f: f, clock: clock.NewFake(), done: make(chan error, 1)}
	opts := Options{Name: "t", Config: testConfig(n), Launcher: f, Clock: h.clock}
	if edit != nil {
		edit(&opts)
	}
	h.s = New(opts)
	h.sub = h.s.Events().Subscribe(100000)
	ctx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	go func() { h.done <- h.s.Run(ctx, nil) }()
	for i := 0; i < n; i++ {
		h.waitEvent("worker ready", func(e Event) bool { return e.Kind == KindWorker && e.To == Ready })
	}
	t.Cleanup(h.shutdown)
	return h
}

// shutdown stops the supervisor and waits for Run to return.
func (h *harness) shutdown() {
	h.once.Do(func() {
		h.stop()
		select {
		case <-h.done:
		case <-time.After(10 * time.Second):
			h.t.Fatal("supervisor did not stop")
		}
	})
}

// waitEvent reads events until one matches, failing the test after a
// generous real-time deadline.
func (h *harness) waitEvent(what string, match func(Event) bool) Event {
	h.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-h.sub.C:
			if !ok {
				h.t.Fatalf("event stream ended waiting for %s", what)
			}
			if testing.Verbose() {
				h.t.Logf("event %d %s step=%s slot=%d pid=%d %s→%s cause=%s %s", e.Seq, e.Kind, e.Step, e.Slot, e.PID, e.From, e.To, e.Cause, e.Text)
			}
			if match(e) {
				return e
			}
		case <-deadline:
			h.t.Fatalf("no event: %s", what)
		}
	}
}

// advance moves the fake clock by d once the supervisor has handled every
// event so far: a status request is served only after the handler that
// published the last event the test saw has returned (and so armed its
// timers).
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	h.status()
	h.clock.Advance(d)
}

// outcome waits for a rollout's result.
func (h *harness) outcome(st Started) RolloutStatus {
	h.t.Helper()
	select {
	case r := <-st.Done:
		return r
	case <-time.After(10 * time.Second):
		h.t.Fatalf("rollout %d did not end", st.ID)
	}
	return RolloutStatus{}
}

// reload runs a rollout to its end.
func (h *harness) reload(opts ReloadOptions) (RolloutStatus, error) {
	h.t.Helper()
	st, err := h.s.Reload(context.Background(), opts)
	if err != nil {
		return RolloutStatus{}, err
	}
	return h.outcome(st), nil
}

func (h *harness) status() Status {
	h.t.Helper()
	st, err := h.s.Status(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

func countReady(st Status) int {
	n := 0
	for _, w := range st.Workers {
		if w.State == Ready {
			n++
		}
	}
	return n
}

func gens(st Status) map[int]int {
	out := map[int]int{}
	for _, w := range st.Workers {
		out[w.Generation]++
	}
	return out
}

func isStep(id int, step Step) func(Event) bool {
	return func(e Event) bool {
		return e.Kind == KindRollout && e.Step == step && e.Rollout != nil && e.Rollout.ID == id
	}
}

// proc9 is an exit with status 9.
func proc9() proc.Exit { return proc.Exit{Code: 9} }

func (p *fakeProc) Continue() {}
