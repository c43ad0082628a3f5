package proxy

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// connCount counts a test backend's connections by state.
type connCount struct{ opened, closed atomic.Int64 }

// countedBackend serves h, counting its connections.
func countedBackend(t *testing.T, h http.Handler) (*Backend, *connCount, *httptest.Server) {
	t.Helper()
	cc := &connCount{}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			cc.opened.Add(1)
		case http.StateClosed, http.StateHijacked:
			cc.closed.Add(1)
		}
	}
	srv.Start()
	return backendOf(t, srv), cc, srv
}

func TestUpstreamKeepsOneConnectionForSequentialRequests(t *testing.T) {
	b, cc, _ := countedBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/empty" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "hello "+r.Method)
	}))
	pool := NewPool(time.Second)
	pool.Add(b)
	addr := startHTTP(t, pool)
	for i := 0; i < 10; i++ {
		for _, m := range []string{"GET", "HEAD", "POST", "DELETE"} {
			code, body := get(t, m, "http://"+addr+"/", "a small body")
			want := "hello " + m
			if m == "HEAD" {
				want = ""
			}
			if code != 200 || body != want {
				t.Fatalf("%s %d: %d %q, want 200 %q", m, i, code, body, want)
			}
		}
		if code, body := get(t, "GET", "http://"+addr+"/empty", ""); code != 204 || body != "" {
			t.Fatalf("GET /empty: %d %q", code, body)
		}
	}
	// One, and one more after each HEAD, whose response announced a body
	// (announcesABody): the connection is not kept after it.
	if n := cc.opened.Load(); n != 11 {
		t.Fatalf("the proxy opened %d connections to the worker for 50 requests one after another, 10 of them HEAD, want 11", n)
	}
	if f := pool.Counters().Failed.Load(); f != 0 {
		t.Fatalf("%d requests failed", f)
	}
}

func TestUpstreamDoesNotUseAConnectionTheWorkerClosed(t *testing.T) {
	var posts atomic.Int64
	b, cc, srv := countedBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Method == "POST" {
			posts.Add(1)
		}
		_, _ = io.WriteString(w, "ok")
	}))
	pool := NewPool(time.Second)
	pool.Add(b)
	addr := startHTTP(t, pool)
	for round := 0; round < 3; round++ {
		if code, _ := get(t, "GET", "http://"+addr+"/", ""); code != 200 {
			t.Fatalf("GET: %d", code)
		}
		// The worker closes its idle keep-alive connection (as a
		// keep-alive timeout would, after seconds); the proxy's next
		// POST must go on a new connection, once, and succeed.
		srv.CloseClientConnections()
		waitFor(t, "the worker to close its connection", func() bool { return cc.closed.Load() == int64(2*round+1) })
		idleFor(t, b, 2*probeIdle)
		if code, _ := get(t, "POST", "http://"+addr+"/", "pay"); code != 200 {
			t.Fatalf("POST after the worker closed its idle connection: %d", code)
		}
		srv.CloseClientConnections()
		waitFor(t, "the worker to close its connection", func() bool { return cc.closed.Load() == int64(2*round+2) })
	}
	if posts.Load() != 3 {
		t.Fatalf("the worker got %d POSTs, want 3", posts.Load())
	}
	if f, r := pool.Counters().Failed.Load(), pool.Counters().Retries.Load(); f != 0 || r != 0 {
		t.Fatalf("%d failed, %d retried on another worker: want none", f, r)
	}
}

// idleFor makes b's idle connections look idle for d.
func idleFor(t *testing.T, b *Backend, d time.Duration) {
	t.Helper()
	b.upstream.mu.Lock()
	defer b.upstream.mu.Unlock()
	if len(b.upstream.idle) != 1 {
		t.Fatalf("%d idle connections, want 1", len(b.upstream.idle))
	}
	b.upstream.idle[0].since = time.Now().Add(-d)
}

func TestUpstreamSendsAnIdempotentRequestAgainOnAStaleConnection(t *testing.T) {
	// A kept-alive connection the worker closed just as it was taken
	// (too recently idle to be checked): a GET goes again on a new
	// connection; a POST that was written is never sent twice.
	var gets, posts atomic.Int64
	b, _, srv := countedBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		map[string]*atomic.Int64{"GET": &gets, "POST": &posts}[r.Method].Add(1)
		_, _ = io.WriteString(w, "ok")
	}))
	for _, m := range []string{"GET", "POST"} {
		// One request to have a kept-alive connection.
		u := b.upstream
		req := httptest.NewRequest("GET", "http://worker/", nil).WithContext(context.Background())
		req.RequestURI = ""
		resp, err := u.roundTrip(req, &attempt{}, func() io.ReadCloser { return nil })
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		srv.CloseClientConnections()
		idleFor(t, b, 0) // too recently idle to be checked

		req = httptest.NewRequest(m, "http://worker/", strings.NewReader("body"))
		req.RequestURI = ""
		a := &attempt{}
		resp, err = u.roundTrip(req, a, func() io.ReadCloser { return io.NopCloser(strings.NewReader("body")) })
		if m == "GET" {
			if err != nil {
				t.Fatalf("GET on a stale connection: %v, want it sent again on a new one", err)
			}
			resp.Body.Close()
			continue
		}
		if err == nil {
			resp.Body.Close()
		}
		// The POST either failed to be written (and went on a new
		// connection) or was written and failed: never twice.
		if posts.Load() > 1 || (err == nil) != (posts.Load() == 1) {
			t.Fatalf("POST: err %v, the worker got %d", err, posts.Load())
		}
	}
	if gets.Load() != 3 {
		t.Fatalf("the worker answered %d GETs, want 3 (two to keep a connection, one sent again)", gets.Load())
	}
}

func TestUpstreamClosesIdleConnections(t *testing.T) {
	b, cc, _ := countedBackend(t, okHandler("ok"))
	pool := NewPool(time.Second)
	pool.Add(b)
	addr := startHTTP(t, pool)
	if code, _ := get(t, "GET", "http://"+addr+"/", ""); code != 200 {
		t.Fatalf("GET: %d", code)
	}
	waitFor(t, "the idle upstream connection to be closed after upstreamIdle", func() bool { return cc.closed.Load() == 1 })

	if code, _ := get(t, "GET", "http://"+addr+"/", ""); code != 200 {
		t.Fatalf("GET: %d", code)
	}
	b.closeIdle() // the worker drained
	waitFor(t, "retire to close the idle connection", func() bool { return cc.closed.Load() == 2 })
	b.upstream.mu.Lock()
	defer b.upstream.mu.Unlock()
	if len(b.upstream.idle) != 0 || b.upstream.sweep != nil {
		t.Fatalf("a retired upstream keeps %d idle connections, sweep %v", len(b.upstream.idle), b.upstream.sweep != nil)
	}
}

func TestUpstreamPassesEarlyHintsAndChunkedBodies(t *testing.T) {
	b, cc, _ := countedBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		for i := 0; i < 3; i++ {
			_, _ = io.WriteString(w, "part ")
			w.(http.Flusher).Flush() // chunked: no Content-Length
		}
	}))
	pool := NewPool(time.Second)
	pool.Add(b)
	addr := startHTTP(t, pool)
	for i := 0; i < 3; i++ {
		if code, body := get(t, "GET", "http://"+addr+"/", ""); code != 200 || body != "part part part " {
			t.Fatalf("GET: %d %q", code, body)
		}
	}
	if n := cc.opened.Load(); n != 1 {
		t.Fatalf("%d connections to the worker, want 1 kept alive", n)
	}
}

func TestUpstreamClosesTheConnectionOfAResponseTheClientLeft(t *testing.T) {
	gone := make(chan struct{})
	b, cc, _ := countedBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for {
			if _, err := io.WriteString(w, strings.Repeat("x", 1024)); err != nil {
				break
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				close(gone)
				return
			case <-time.After(time.Millisecond):
			}
		}
	}))
	pool := NewPool(time.Second)
	pool.Add(b)
	addr := startHTTP(t, pool)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("stream: %v", err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker's request went on after its client left")
	}
	waitFor(t, "the proxy to close the worker's connection", func() bool { return cc.closed.Load() == 1 })
	waitFor(t, "the request to end", func() bool { return b.Open() == 0 })
}
