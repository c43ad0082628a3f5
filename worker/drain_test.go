package worker

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/loadtest"
)

// counting answers "ok" and counts the requests it answered.
func counting(n *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		n.Add(1)
		_, _ = w.Write([]byte("ok\n"))
	})
}

// rollover replays one baton rollout step under keep-alive load: an old
// server serves a socket with every client connected to it, a new server
// starts on the same socket (a duplicate descriptor, as two workers
// share one), and the old one drains while the load runs on. The load
// client never re-sends a request (internal/loadtest writes raw POSTs),
// so every request lost to the drain is counted. plain drains with
// http.Server.Shutdown instead of Serve.
func rollover(t *testing.T, plain bool) loadtest.Result {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	oldLn, err := net.FileListener(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var oldServed, newServed atomic.Int64
	oldSrv := &http.Server{Handler: counting(&oldServed)}
	ctx, drain := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() {
		if !plain {
			stopped <- Serve(ctx, oldSrv, []net.Listener{oldLn}, append(quiet, IdleLinger(200*time.Millisecond))...)
			return
		}
		go func() { _ = oldSrv.Serve(oldLn) }()
		<-ctx.Done()
		stopped <- oldSrv.Shutdown(context.Background())
	}()

	lctx, stopLoad := context.WithCancel(context.Background())
	done := make(chan loadtest.Result, 1)
	go func() {
		res, err := loadtest.Run(lctx, loadtest.Options{Addr: ln.Addr().String(), Conns: 32, Body: []byte("x")})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	waitUntil(t, "load on the old server", func() bool { return oldServed.Load() >= 1000 })
	newSrv := &http.Server{Handler: counting(&newServed)}
	go func() { _ = newSrv.Serve(ln) }()
	defer newSrv.Close()
	drain()
	if err := <-stopped; err != nil {
		t.Errorf("drain: %v", err)
	}
	mark := newServed.Load()
	waitUntil(t, "load on the new server", func() bool { return newServed.Load() >= mark+1000 })
	stopLoad()
	return <-done
}

func TestDrainUnderKeepAliveLoadFailsNothing(t *testing.T) {
	var failed, sent int64
	for i := range 5 {
		res := rollover(t, false)
		t.Logf("worker.Serve drain %d: %s", i+1, res)
		failed += res.Failed
		sent += res.Sent
	}
	t.Logf("RESULT worker.Serve drain: %d failed of %d requests over 5 drains, 32 keep-alive connections", failed, sent)
	if failed != 0 {
		t.Fatalf("%d requests failed", failed)
	}
}

// The same with plain http.Server.Shutdown, which closes idle keep-alive
// connections at once, racing with clients sending their next request on
// them (FIELD-NOTES §1). It only logs: the race is timing-dependent.
func TestCompareWithPlainShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("comparison only")
	}
	var failed, sent int64
	for i := range 5 {
		res := rollover(t, true)
		t.Logf("plain Shutdown drain %d: %s", i+1, res)
		failed += res.Failed
		sent += res.Sent
	}
	t.Logf("RESULT plain Shutdown: %d failed of %d requests over 5 drains, 32 keep-alive connections", failed, sent)
}
