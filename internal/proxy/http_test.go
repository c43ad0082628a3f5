package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func okHandler(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Seen-For", r.Header.Get("X-Forwarded-For"))
		w.Header().Set("X-Seen-Host", r.Host)
		_, _ = io.WriteString(w, body)
	})
}

func get(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := noRetryClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHTTPProxyForwardsWithXForwarded(t *testing.T) {
	pool := NewPool(time.Second)
	pool.Add(httpBackend(t, okHandler("hello")))
	addr := startHTTP(t, pool)
	req, _ := http.NewRequest("GET", "http://"+addr+"/x", nil)
	req.Host = "example.test"
	resp, err := noRetryClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello" || resp.Header.Get("X-Seen-For") != "127.0.0.1" || resp.Header.Get("X-Seen-Host") != "example.test" {
		t.Fatalf("got %q, X-Forwarded-For %q, Host %q", b, resp.Header.Get("X-Seen-For"), resp.Header.Get("X-Seen-Host"))
	}
}

func TestHTTPRetriesARefusedDialForEveryMethod(t *testing.T) {
	pool := NewPool(time.Second)
	pool.Add(deadBackend(t))
	pool.Add(httpBackend(t, okHandler("ok")))
	addr := startHTTP(t, pool)
	for i := 0; i < 4; i++ {
		for _, m := range []string{"GET", "POST"} {
			if code, body := get(t, m, "http://"+addr+"/", "data"); code != 200 || body != "ok" {
				t.Fatalf("%s: %d %q", m, code, body)
			}
		}
	}
	if pool.Counters().Retries.Load() == 0 {
		t.Fatal("no retry counted")
	}
}

// closer reads a request and closes the connection without an answer,
// as a worker killed with the request in flight does.
func closer(posts *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Method == "POST" {
			posts.Add(1)
		}
		c, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			c.Close()
		}
	})
}

func TestHTTPRetriesIdempotentButNeverReplaysAWrittenPost(t *testing.T) {
	var posts atomic.Int64
	pool := NewPool(time.Second)
	bad := httpBackend(t, closer(&posts))
	good := httpBackend(t, okHandler("ok"))
	pool.Add(bad)
	addr := startHTTP(t, pool)
	pool.Add(good)
	// Both are equal: round-robin sends some requests to the bad one first.
	for i := 0; i < 6; i++ {
		if code, body := get(t, "GET", "http://"+addr+"/", ""); code != 200 || body != "ok" {
			t.Fatalf("GET %d: %d %q", i, code, body)
		}
		if code, _ := get(t, "PUT", "http://"+addr+"/", "small body"); code != 200 {
			t.Fatalf("PUT %d: %d", i, code)
		}
	}
	retried := pool.Counters().Retries.Load()
	if retried == 0 {
		t.Fatal("no idempotent request was retried")
	}
	failed := 0
	for i := 0; i < 6; i++ {
		if code, _ := get(t, "POST", "http://"+addr+"/", "pay"); code == http.StatusBadGateway {
			failed++
		}
	}
	if failed == 0 || int64(failed) != posts.Load() {
		t.Fatalf("POSTs: %d failed with 502, the closing worker read %d: each must fail once, never replayed", failed, posts.Load())
	}
	if pool.Counters().Failed.Load() != uint64(failed) {
		t.Fatalf("failed counter %d, want %d", pool.Counters().Failed.Load(), failed)
	}
	if pool.Counters().Retries.Load() != retried {
		t.Fatal("a POST was retried")
	}
}

func TestHTTPWaitsForAWorkerThenAnswers503(t *testing.T) {
	pool := NewPool(150 * time.Millisecond)
	addr := startHTTP(t, pool)
	if code, _ := get(t, "GET", "http://"+addr+"/", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("no worker: %d, want 503", code)
	}
	pool = NewPool(time.Minute)
	addr = startHTTP(t, pool)
	codes := make(chan int)
	go func() { c, _ := get(t, "GET", "http://"+addr+"/", ""); codes <- c }()
	waitFor(t, "the request to wait", func() bool { return pool.Counters().Waited.Load() == 1 })
	pool.Add(httpBackend(t, okHandler("late")))
	if c := <-codes; c != 200 {
		t.Fatalf("after a worker came: %d", c)
	}
}

func TestHTTPStreamsAtOnce(t *testing.T) {
	next := make(chan struct{})
	pool := NewPool(time.Second)
	pool.Add(httpBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; i < 3; i++ {
			_, _ = io.WriteString(w, "data: tick\n\n")
			w.(http.Flusher).Flush()
			select {
			case <-next: // sent only after the client saw this event
			case <-time.After(10 * time.Second):
				return
			}
		}
	})))
	addr := startHTTP(t, pool)
	resp, err := noRetryClient().Get("http://" + addr + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	for i := 0; i < 3; i++ {
		line, err := r.ReadString('\n')
		if err != nil || line != "data: tick\n" {
			t.Fatalf("event %d: %q %v", i, line, err)
		}
		_, _ = r.ReadString('\n')
		next <- struct{}{}
	}
}

// A long body of known length (a download, a slow report) passes to the
// client piece by piece as the worker sends it, with its Content-Length.
func TestHTTPStreamsALongBodyOfKnownLengthAtOnce(t *testing.T) {
	const piece = 2 << 10 // smaller than the client connection's write buffer, the body longer
	next := make(chan struct{})
	pool := NewPool(time.Second)
	pool.Add(httpBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(3*piece))
		for i := 0; i < 3; i++ {
			_, _ = w.Write(bytes.Repeat([]byte{'a' + byte(i)}, piece))
			w.(http.Flusher).Flush()
			select {
			case <-next: // sent only after the client read this piece
			case <-time.After(10 * time.Second):
				return
			}
		}
	})))
	addr := startHTTP(t, pool)
	resp, err := noRetryClient().Get("http://" + addr + "/download")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != 3*piece {
		t.Fatalf("Content-Length %d, want %d", resp.ContentLength, 3*piece)
	}
	buf := make([]byte, piece)
	for i := 0; i < 3; i++ {
		if _, err := io.ReadFull(resp.Body, buf); err != nil || buf[0] != 'a'+byte(i) || buf[piece-1] != 'a'+byte(i) {
			t.Fatalf("piece %d: %q… %v", i, buf[:8], err)
		}
		next <- struct{}{}
	}
}

func TestHTTPCountsRequestsInFlightUntilTheBodyIsDone(t *testing.T) {
	release := make(chan struct{})
	pool := NewPool(time.Second)
	b := httpBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		_, _ = io.WriteString(w, "done")
	}))
	pool.Add(b)
	addr := startHTTP(t, pool)
	done := make(chan int)
	go func() { c, _ := get(t, "GET", "http://"+addr+"/", ""); done <- c }()
	waitFor(t, "one request in flight", func() bool { return b.Open() == 1 })
	close(release)
	if c := <-done; c != 200 {
		t.Fatalf("status %d", c)
	}
	waitFor(t, "no request in flight", func() bool { return b.Open() == 0 })
}
