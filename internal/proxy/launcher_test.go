package proxy

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/proc"
	"github.com/batonhq/baton/internal/wire"
)

// fakeLauncher records launches; its processes record signals.
type fakeLauncher struct {
	mu       sync.Mutex
	launched []proc.Launch
	procs    []*fakeProc
}

func (f *fakeLauncher) Launch(l proc.Launch, _ func(wire.Notify), onExit func(proc.Exit)) (proc.Process, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := &fakeProc{onExit: onExit}
	f.launched, f.procs = append(f.launched, l), append(f.procs, p)
	return p, nil
}

type fakeProc struct {
	mu      sync.Mutex
	signals []syscall.Signal
	onExit  func(proc.Exit)
}

func (p *fakeProc) PID() int       { return 42 }
func (p *fakeProc) Dir() string    { return "/" }
func (p *fakeProc) KillGroup()     {}
func (p *fakeProc) Continue()      {}
func (p *fakeProc) Tail() []string { return nil }
func (p *fakeProc) Release()       {}
func (p *fakeProc) Signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.signals = append(p.signals, sig)
	return nil
}
func (p *fakeProc) signalled() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.signals)
}

func TestLauncherGivesAPortAndDrainsBeforeTheSignal(t *testing.T) {
	inner := &fakeLauncher{}
	pool := NewPool(time.Second)
	l := NewLauncher(inner, pool, config.ProxyTCP, quiet)
	p, err := l.Launch(proc.Launch{ID: 1, Command: []string{"srv", "--port={port}"}, PortEnv: "HTTP_PORT",
		DrainTimeout: time.Minute, Ready: config.Readiness{Kind: config.ReadyNotify}}, func(wire.Notify) {}, func(proc.Exit) {})
	if err != nil {
		t.Fatal(err)
	}
	ps := p.(proc.ProxyReporter).ProxyStatus()
	got := inner.launched[0]
	if ps.Port == 0 || !slices.Contains(got.Env, "HTTP_PORT="+itoa(ps.Port)) || got.Command[1] != "--port="+itoa(ps.Port) {
		t.Fatalf("port %d, env %v, command %v", ps.Port, got.Env, got.Command)
	}
	if pool.Ready() != 0 || ps.InRotation {
		t.Fatal("in rotation before it was ready")
	}
	p.(proc.ReadyObserver).MarkedReady()
	b, err := pool.Pick(context.Background(), nil)
	if err != nil || pool.Ready() != 1 {
		t.Fatalf("after ready: %v, %d ready", err, pool.Ready())
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if pool.Ready() != 0 {
		t.Fatal("still in rotation while draining")
	}
	time.Sleep(20 * time.Millisecond) // a negative check: no signal with a connection open
	if inner.procs[0].signalled() != 0 {
		t.Fatal("signalled with a connection open")
	}
	b.Release()
	waitFor(t, "the stop signal after the drain", func() bool { return inner.procs[0].signalled() == 1 })
	p.(proc.ReadyObserver).MarkedReady()
	if pool.Ready() != 0 {
		t.Fatal("a draining worker came back into rotation")
	}
}

func TestLauncherProbesTCPReadiness(t *testing.T) {
	inner := &fakeLauncher{}
	l := NewLauncher(inner, NewPool(time.Second), config.ProxyTCP, quiet)
	ready := make(chan struct{}, 1)
	p, err := l.Launch(proc.Launch{ID: 1, Command: []string{"srv"}, Ready: config.Readiness{Kind: config.ReadyTCP}},
		func(n wire.Notify) {
			if n.Ready {
				ready <- struct{}{}
			}
		}, func(proc.Exit) {})
	if err != nil {
		t.Fatal(err)
	}
	port := p.(proc.ProxyReporter).ProxyStatus().Port
	select {
	case <-ready:
		t.Fatal("ready before anything listened")
	case <-time.After(50 * time.Millisecond):
	}
	tcpBackendOn(t, port)
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("the probe never passed")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
