package worker

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// quiet are the options of servers under test: no notify, no log lines.
var quiet = []Option{WithoutNotify(), Logger(nil)}

// waitUntil polls cond until it holds, failing the test after 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// serveQuiet runs Serve on a fresh loopback listener until the
// returned cancel; result receives what it returned.
func serveQuiet(t *testing.T, h http.Handler, opts ...Option) (addr string, cancel context.CancelFunc, result <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() { res <- Serve(ctx, &http.Server{Handler: h}, []net.Listener{ln}, append(quiet, opts...)...) }()
	t.Cleanup(cancel)
	return ln.Addr().String(), cancel, res
}

// request writes one raw request on c and reads the response.
func request(c net.Conn, br *bufio.Reader) (*http.Response, error) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, err
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, err
}

// A keep-alive connection idle when the drain starts still has its next
// request answered (with Connection: close, even from a handler that
// writes nothing); one that stays idle is closed after the linger.
func TestIdleConnectionDuringDrain(t *testing.T) {
	empty := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	addr, drain, result := serveQuiet(t, empty, IdleLinger(300*time.Millisecond))
	var conns [2]net.Conn
	var readers [2]*bufio.Reader
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i], readers[i] = c, bufio.NewReader(c)
		if resp, err := request(c, readers[i]); err != nil || resp.Close {
			t.Fatalf("before the drain: %v close=%v", err, resp != nil && resp.Close)
		}
	}
	drain()
	waitUntil(t, "the listener to close", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return errors.Is(err, syscall.ECONNREFUSED)
	})
	resp, err := request(conns[0], readers[0])
	if err != nil || resp.StatusCode != 200 || !resp.Close {
		t.Fatalf("request on an idle connection during the drain: %v, want 200 with Connection: close", err)
	}
	began := time.Now()
	if _, err := readers[1].ReadByte(); err != io.EOF {
		t.Fatalf("idle connection: want EOF after the linger, got %v", err)
	}
	if err := <-result; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	t.Logf("idle connection closed %v after the listener", time.Since(began).Round(time.Millisecond))
}

func TestHooksRunAfterInFlightRequestsInReverseOrder(t *testing.T) {
	entered := make(chan struct{})
	var mu sync.Mutex
	var events []string
	record := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		time.Sleep(300 * time.Millisecond) // a slow request in flight when the drain starts
		_, _ = w.Write([]byte("done"))
		record("request finished")
	})
	addr, drain, result := serveQuiet(t, slow,
		OnShutdown(func(context.Context) error { record("close db"); return nil }),
		OnShutdown(func(context.Context) error { record("flush cache"); return errors.New("flush failed") }),
		OnShutdown(func(context.Context) error { record("stop metrics"); return nil }))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	reply := make(chan error, 1)
	go func() {
		resp, err := request(c, bufio.NewReader(c))
		if err == nil && !resp.Close {
			err = errors.New("a response sent during the drain lacks Connection: close")
		}
		reply <- err
	}()
	<-entered
	drain()
	if err := <-reply; err != nil {
		t.Fatal(err)
	}
	if err := <-result; err == nil || err.Error() != "shutdown hook 1: flush failed" {
		t.Fatalf("Serve returned %v, want the failed hook's error", err)
	}
	want := "request finished, stop metrics, flush cache, close db"
	if got := strings.Join(events, ", "); got != want {
		t.Fatalf("order %s, want %s", got, want)
	}
}

func TestDrainDeadlineCutsOffStuckRequests(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	stuck := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	})
	hookRan := false
	addr, drain, result := serveQuiet(t, stuck, DrainTimeout(200*time.Millisecond),
		OnShutdown(func(ctx context.Context) error { hookRan = ctx.Err() == nil; return nil }))
	go func() {
		if c, err := net.Dial("tcp", addr); err == nil {
			defer c.Close()
			_, _ = request(c, bufio.NewReader(c))
		}
	}()
	<-entered
	drain()
	select {
	case err := <-result:
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "1 connections still open") {
			t.Fatalf("want a deadline error counting the connection, got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("drain ignored its deadline")
	}
	if !hookRan {
		t.Fatal("hooks did not run with a live context after a cut-off drain")
	}
}

func TestServeWithoutListeners(t *testing.T) {
	if err := Serve(context.Background(), &http.Server{}, nil, quiet...); err == nil {
		t.Fatal("want an error")
	}
}
