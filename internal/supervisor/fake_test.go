package supervisor

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/config"
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
}

type fakeProc struct {
	l      *fakeLauncher
	pid    int
	exit   func(string)
	exited bool
}

func newFake() *fakeLauncher {
	return &fakeLauncher{nextPID: 100, broken: map[int]bool{}, mute: map[int]bool{}, procs: map[int]*fakeProc{}}
}

func (f *fakeLauncher) Launch(l Launch, onNotify func(wire.Notify), onExit func(string)) (Process, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextPID++
	p := &fakeProc{l: f, pid: f.nextPID, exit: onExit}
	f.procs[p.pid] = p
	f.log = append(f.log, fmt.Sprintf("start g%d s%d p%d", l.Generation, l.Slot, p.pid))
	switch {
	case f.broken[l.Generation]:
		p.exited = true
		go onExit("exit status 1")
	case !f.mute[l.Generation]:
		go onNotify(wire.Notify{Ready: true, Status: "up", HasStatus: true})
	}
	return p, nil
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
func (p *fakeProc) KillGroup()     { p.die("signal killed", "kill") }
func (p *fakeProc) crash(s string) { p.die(s, "crash") }
func (p *fakeProc) Signal(sig syscall.Signal) error {
	p.l.mu.Lock()
	stubborn := p.l.stubborn
	p.l.mu.Unlock()
	if !stubborn {
		p.die("exit status 0", "signal "+sig.String())
	}
	return nil
}

func (p *fakeProc) die(exit, why string) {
	p.l.mu.Lock()
	defer p.l.mu.Unlock()
	if p.exited {
		return
	}
	p.exited = true
	p.l.log = append(p.l.log, fmt.Sprintf("%s p%d", why, p.pid))
	go p.exit(exit)
}

// run starts a supervisor of n workers on the fake and waits until ready.
func run(t *testing.T, f *fakeLauncher, n int, edit func(*config.Config)) (*Supervisor, func()) {
	t.Helper()
	cfg := config.Config{Name: "t", Workers: n, Command: []string{"app"}, Ready: config.Readiness{Kind: "notify"},
		ReadyTimeout: 2 * time.Second, StopSignal: syscall.SIGTERM, StopTimeout: 2 * time.Second,
		Strategy: config.StrategySurge, Parallel: 1}
	if edit != nil {
		edit(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	s := New(Options{Name: "t", Config: cfg, Launcher: f, Logger: log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, nil) }()
	waitStatus(t, s, func(st Status) bool { return countReady(st) == n })
	return s, func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("supervisor did not stop")
		}
	}
}

func countReady(st Status) int {
	n := 0
	for _, w := range st.Workers {
		if w.State == "ready" {
			n++
		}
	}
	return n
}

func waitStatus(t *testing.T, s *Supervisor, cond func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := s.Status(context.Background())
		if err == nil && cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not reached; status %+v", st)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func gens(st Status) map[int]int {
	out := map[int]int{}
	for _, w := range st.Workers {
		out[w.Generation]++
	}
	return out
}
