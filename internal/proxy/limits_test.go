package proxy

import (
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/proc"
	"github.com/batonhq/baton/internal/wire"
)

// With --watchdog and no notify socket, an answered GET (of any status)
// is a WATCHDOG=1; the probes end when the worker drains.
func TestLivenessProbePingsWhileTheWorkerAnswers(t *testing.T) {
	inner := &fakeLauncher{}
	l := NewLauncher(inner, NewPool(time.Second), config.ProxyHTTP, quiet)
	var pings, hits atomic.Int64
	p, err := l.Launch(proc.Launch{ID: 1, Command: []string{"srv"}, Watchdog: 300 * time.Millisecond,
		Ready: config.Readiness{Kind: config.ReadyHTTP, Path: "/health"}, DrainTimeout: time.Second},
		func(n wire.Notify) {
			if n.Watchdog {
				pings.Add(1)
			}
		}, func(proc.Exit) {})
	if err != nil {
		t.Fatal(err)
	}
	port := p.(proc.ProxyReporter).ProxyStatus().Port
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			hits.Add(1)
		}
		w.WriteHeader(http.StatusInternalServerError)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	p.(proc.ReadyObserver).MarkedReady()
	waitFor(t, "three pings", func() bool { return pings.Load() >= 3 })
	if hits.Load() < 3 {
		t.Fatalf("%d probes of the readiness path", hits.Load())
	}
	// Benched (the watchdog fired): out of rotation, not signalled yet.
	p.(proc.RotationLeaver).LeaveRotation()
	if l.Pool.Ready() != 0 || inner.procs[0].signalled() != 0 {
		t.Fatalf("benched worker: %d in rotation, %d signals", l.Pool.Ready(), inner.procs[0].signalled())
	}
	p.(proc.ReadyObserver).MarkedReady()
	if l.Pool.Ready() != 0 {
		t.Fatal("a benched worker came back into rotation")
	}
	if err := p.Signal(15); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stop signal after the drain", func() bool { return inner.procs[0].signalled() == 1 })
}

func TestBackendCallsItsRequestLimitOnce(t *testing.T) {
	b := NewBackend(1, 0, 1)
	reached := make(chan struct{}, 10)
	b.acquire()
	b.limitServed(3, func() { reached <- struct{}{} })
	b.acquire()
	select {
	case <-reached:
		t.Fatal("reached after 2 of 3")
	case <-time.After(20 * time.Millisecond): // a negative check
	}
	for i := 0; i < 5; i++ {
		b.acquire()
	}
	select {
	case <-reached:
	case <-time.After(10 * time.Second):
		t.Fatal("limit never reached")
	}
	select {
	case <-reached:
		t.Fatal("reached twice")
	case <-time.After(20 * time.Millisecond):
	}
	late := NewBackend(2, 0, 1)
	late.acquire()
	late.acquire()
	late.limitServed(2, func() { reached <- struct{}{} })
	select {
	case <-reached:
	case <-time.After(10 * time.Second):
		t.Fatal("a limit already passed when set was not reported")
	}
}
