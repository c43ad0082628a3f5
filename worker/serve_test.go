package worker

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/loadtest"
)

// twoServers runs a "new" server and an "old" server on one shared socket
// (as two baton workers are), drains the old one under keep-alive load and
// returns the load's result. plain drains with http.Server.Shutdown
// instead of ServeHTTP's drain.
func twoServers(t *testing.T, plain bool) loadtest.Result {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, _ := ln.(*net.TCPListener).File()
	oldLn, _ := net.FileListener(f)
	f.Close()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	newSrv := &http.Server{Handler: ok}
	go func() { _ = newSrv.Serve(ln) }()
	defer newSrv.Close()
	oldSrv := &http.Server{Handler: ok}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() {
		if plain {
			go func() { _ = oldSrv.Serve(oldLn) }()
			<-ctx.Done()
			stopped <- oldSrv.Shutdown(context.Background())
			return
		}
		stopped <- ServeHTTP(ctx, oldSrv, []net.Listener{oldLn}, WithoutNotify(), IdleLinger(200*time.Millisecond))
	}()
	lctx, lcancel := context.WithCancel(context.Background())
	done := make(chan loadtest.Result, 1)
	var served sync.WaitGroup
	served.Add(1)
	var once sync.Once
	go func() {
		res, _ := loadtest.Run(lctx, loadtest.Options{Addr: ln.Addr().String(), Conns: 32,
			OnResponse: func(int, []byte) { once.Do(served.Done) }})
		done <- res
	}()
	served.Wait()
	time.Sleep(200 * time.Millisecond) // load spreads over both servers' connections
	cancel()
	if err := <-stopped; err != nil {
		t.Fatalf("drain: %v", err)
	}
	time.Sleep(200 * time.Millisecond) // and continues on the new server
	lcancel()
	return <-done
}

func TestDrainUnderKeepAliveLoadFailsNothing(t *testing.T) {
	for i := 0; i < 5; i++ {
		res := twoServers(t, false)
		t.Logf("ServeHTTP drain: %s", res)
		if res.Failed != 0 {
			t.Fatalf("drain %d: %d requests failed: %v", i, res.Failed, res.FirstErrors)
		}
	}
}

// The same with plain Shutdown, for comparison (BENCHMARKS.md): it closes
// idle keep-alive connections at once and races with clients sending.
// It only logs: the race is timing-dependent.
func TestCompareWithPlainShutdown(t *testing.T) {
	var failed int64
	for i := 0; i < 5; i++ {
		res := twoServers(t, true)
		failed += res.Failed
		t.Logf("plain Shutdown drain: %s", res)
	}
	t.Logf("plain Shutdown: %d failed requests over 5 drains", failed)
}

func TestHooksRunAfterInFlightRequestsInReverseOrder(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{})
	var mu sync.Mutex
	var events []string
	record := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		time.Sleep(300 * time.Millisecond) // a slow request in flight during the drain
		_, _ = w.Write([]byte("done"))
		record("request finished")
	})}
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() {
		result <- ServeHTTP(ctx, srv, []net.Listener{ln}, WithoutNotify(),
			OnShutdown(func(context.Context) error { record("close db"); return nil }),
			OnShutdown(func(context.Context) error { record("flush cache"); return errors.New("flush failed") }))
	}()
	reply := make(chan error, 1)
	go func() {
		resp, err := http.Post("http://"+ln.Addr().String()+"/", "text/plain", nil)
		if err == nil {
			if !resp.Close {
				err = errors.New("response during the drain lacks Connection: close")
			}
			resp.Body.Close()
		}
		reply <- err
	}()
	<-entered
	cancel()
	if err := <-reply; err != nil {
		t.Fatal(err)
	}
	if err := <-result; err == nil || err.Error() != "shutdown hook 1: flush failed" {
		t.Fatalf("ServeHTTP returned %v", err)
	}
	want := []string{"request finished", "flush cache", "close db"}
	if len(events) != 3 || events[0] != want[0] || events[1] != want[1] || events[2] != want[2] {
		t.Fatalf("order %v, want %v", events, want)
	}
}

func TestDrainDeadlineCutsOffStuckRequests(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{})
	block := make(chan struct{})
	defer close(block)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-block
	})}
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() {
		result <- ServeHTTP(ctx, srv, []net.Listener{ln}, WithoutNotify(), DrainTimeout(200*time.Millisecond))
	}()
	go func() { _, _ = http.Get("http://" + ln.Addr().String()) }()
	<-entered
	cancel()
	select {
	case err := <-result:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("want a deadline error, got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("drain ignored its deadline")
	}
}
