package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// rawBackend is a worker written byte by byte: serve answers each
// connection; it counts the connections it took.
func rawBackend(t *testing.T, serve func(c net.Conn, n int64)) (*Backend, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var conns atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := conns.Add(1)
			go func() {
				defer c.Close()
				serve(c, n)
			}()
		}
	}()
	nextID++
	b := NewHTTPBackend(nextID, nextID, portOf(t, ln.Addr().String()))
	t.Cleanup(b.closeIdle)
	return b, &conns
}

// readHead reads one request's head (and a body of known length) from br.
func readReq(br *bufio.Reader) (*http.Request, error) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, req.Body)
	return req, err
}

// proxyTo runs a proxy over the single backend b.
func proxyTo(t *testing.T, b *Backend) string {
	t.Helper()
	pool := NewPool(time.Second)
	pool.Add(b)
	return startHTTP(t, pool)
}

// postOnce sends a request with a one-byte body on the client connection
// c and returns the response's status.
func sendOn(t *testing.T, c net.Conn, br *bufio.Reader, method string) int {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, method+" / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// dialProxy is a client connection to the proxy at addr.
func dialProxy(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func TestUpstreamNeverWritesAPostOnAConnectionTheWorkerClosedSilently(t *testing.T) {
	// An HTTP/1.1 worker that closes after each response without saying
	// so (no Connection: close): the next POST, however soon, goes on a
	// new connection rather than on the closed one, where it would fail.
	closed := make(chan struct{}, 1)
	var posts atomic.Int64
	b, conns := rawBackend(t, func(c net.Conn, _ int64) {
		if req, err := readReq(bufio.NewReader(c)); err == nil && req.Method == "POST" {
			posts.Add(1)
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		c.Close()
		closed <- struct{}{}
	})
	c, br := dialProxy(t, proxyTo(t, b))
	for i := 0; i < 20; i++ {
		if code := sendOn(t, c, br, "POST"); code != 200 {
			t.Fatalf("POST %d: %d, want 200 (the worker closed the connection of the one before)", i, code)
		}
		<-closed
	}
	if posts.Load() != 20 || conns.Load() != 20 {
		t.Fatalf("the worker got %d POSTs on %d connections, want 20 on 20", posts.Load(), conns.Load())
	}
}

// closingOnNext is a worker that answers the first request of each
// connection with head, then closes the connection when the next request
// arrives, unread: its idle timeout fired just then.
func closingOnNext(head string, posts *atomic.Int64) func(net.Conn, int64) {
	return func(c net.Conn, _ int64) {
		br := bufio.NewReader(c)
		req, err := readReq(br)
		if err != nil {
			return
		}
		if req.Method == "POST" {
			posts.Add(1)
		}
		_, _ = io.WriteString(c, head+"Content-Length: 2\r\n\r\nok")
		_, _ = br.Peek(1)
	}
}

func TestUpstreamPostsAvoidConnectionsIdleForHalfASecond(t *testing.T) {
	// Node 20.20 with keepAliveTimeout = 1 closes an idle connection after
	// a second, when the proxy's own idle limit (upstreamIdle) ends too: a
	// POST is not written on one idle for half of that, where it could
	// meet the close (the worker here closes it as the POST arrives). It
	// goes on a new connection.
	var posts atomic.Int64
	b, conns := rawBackend(t, closingOnNext("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=0\r\n", &posts))
	c, br := dialProxy(t, proxyTo(t, b))
	for i := 0; i < 5; i++ {
		agedIdle(b, upstreamIdle*6/10) // open when checked
		if code := sendOn(t, c, br, "POST"); code != 200 {
			t.Fatalf("POST %d: %d, want 200", i, code)
		}
	}
	if posts.Load() != 5 || conns.Load() != 5 {
		t.Fatalf("the worker got %d POSTs on %d connections, want 5 on 5", posts.Load(), conns.Load())
	}
}

// agedIdle makes every idle connection of b look idle for d.
func agedIdle(b *Backend, d time.Duration) {
	b.upstream.mu.Lock()
	defer b.upstream.mu.Unlock()
	for _, c := range b.upstream.idle {
		c.since = time.Now().Add(-d)
	}
}

func TestUpstreamPostsAvoidConnectionsAsIdleAsOneTheWorkerClosed(t *testing.T) {
	// A worker that closes idle connections early and does not say so: a
	// GET that met the close went again on a new connection, and taught
	// the proxy how soon this worker closes; a POST is then not written on
	// a connection idle that long.
	var posts atomic.Int64
	b, conns := rawBackend(t, closingOnNext("HTTP/1.1 200 OK\r\n", &posts))
	c, br := dialProxy(t, proxyTo(t, b))
	if code := sendOn(t, c, br, "GET"); code != 200 {
		t.Fatalf("GET: %d", code)
	}
	idleFor(t, b, 2*time.Millisecond) // not checked before a GET
	if code := sendOn(t, c, br, "GET"); code != 200 {
		t.Fatalf("GET on a connection the worker closed: %d, want it sent again", code)
	}
	idleFor(t, b, 2*time.Millisecond) // open when checked: the worker closes it on the POST
	if code := sendOn(t, c, br, "POST"); code != 200 {
		t.Fatalf("POST: %d, want 200", code)
	}
	if posts.Load() != 1 || conns.Load() != 3 {
		t.Fatalf("the worker got %d POSTs, %d connections, want 1 and 3", posts.Load(), conns.Load())
	}
}

func TestFrontAnswers502WhenTheWorkerCutsAShortResponse(t *testing.T) {
	// A worker that resets (or closes) the connection in the middle of a
	// short response, which the front sends only once it has it all: the
	// client, which got nothing yet, gets a 502, counted as failed.
	for _, reset := range []bool{true, false} {
		b, _ := rawBackend(t, func(c net.Conn, _ int64) {
			if _, err := readReq(bufio.NewReader(c)); err != nil {
				return
			}
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhel")
			if reset {
				_ = c.(*net.TCPConn).SetLinger(0)
			}
		})
		pool := NewPool(time.Second)
		pool.Add(b)
		addr := startHTTP(t, pool)
		c, br := dialProxy(t, addr)
		if code := sendOn(t, c, br, "GET"); code != http.StatusBadGateway {
			t.Fatalf("reset %v: %d, want 502", reset, code)
		}
		cs := pool.Counters()
		if f, ok, bad := cs.Failed.Load(), cs.Responses[2].Load(), cs.Responses[5].Load(); f != 1 || ok != 0 || bad != 1 {
			t.Fatalf("reset %v: %d failed, %d 2xx, %d 5xx counted, want 1, 0, 1", reset, f, ok, bad)
		}
	}
}

func TestFrontAnswersAClientThatHalfClosedAfterItsRequest(t *testing.T) {
	// A client that ends its sending right after its request (nc -N,
	// shutdown(SHUT_WR)) still gets its answer, even a slow one (the front
	// watches the client of a request that takes watchAfter).
	b, _ := rawBackend(t, func(c net.Conn, _ int64) {
		br := bufio.NewReader(c)
		for {
			if _, err := readReq(br); err != nil {
				return
			}
			time.Sleep(3 * watchAfter) // a slow worker
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	addr := proxyTo(t, b)
	for _, raw := range []string{
		"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab",
		"GET / HTTP/1.0\r\nHost: h\r\n\r\n",
	} {
		c, _ := dialProxy(t, addr)
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.WriteString(c, raw)
		_ = c.(*net.TCPConn).CloseWrite()
		got, err := io.ReadAll(c)
		if err != nil || !strings.HasSuffix(string(got), "\r\n\r\nok") {
			t.Fatalf("%q, then a half-close: %q %v, want the answer", raw, got, err)
		}
	}
}

func TestUpstreamDoesNotKeepAConnectionAfterAHeadResponseThatAnnouncedABody(t *testing.T) {
	// A worker that serves HEAD as GET (a WSGI app under gunicorn, a
	// Python handler with do_HEAD = do_GET) sends the body after the head:
	// read as the next response, it made the GET after a HEAD a 502.
	b, conns := rawBackend(t, func(c net.Conn, _ int64) {
		br := bufio.NewReader(c)
		for {
			if _, err := readReq(br); err != nil {
				return
			}
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
			time.Sleep(time.Millisecond) // the body a moment later, in a write of its own
			_, _ = io.WriteString(c, "hello")
		}
	})
	c, br := dialProxy(t, proxyTo(t, b))
	for i := 0; i < 10; i++ {
		for _, m := range []string{"HEAD", "GET"} {
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			_, _ = io.WriteString(c, m+" / HTTP/1.1\r\nHost: h\r\n\r\n")
			resp, err := http.ReadResponse(br, &http.Request{Method: m})
			if err != nil {
				t.Fatalf("%s %d: %v", m, i, err)
			}
			body, _ := io.ReadAll(resp.Body)
			if want := map[string]string{"HEAD": "", "GET": "hello"}[m]; resp.StatusCode != 200 || string(body) != want {
				t.Fatalf("%s %d: %d %q, want 200 %q", m, i, resp.StatusCode, body, want)
			}
		}
	}
	if n := conns.Load(); n < 10 {
		t.Fatalf("%d connections to the worker for 10 HEADs", n)
	}
}

func TestLargePostsAvoidKeptConnectionsOfAWorkerSeenClosingThem(t *testing.T) {
	// A POST with a body over singleWrite goes through http.Transport,
	// which reuses any kept connection: once the worker was seen closing
	// kept connections as requests arrive, such a POST takes a new one.
	big := strings.Repeat("x", 2*singleWrite)
	post := func(t *testing.T, c net.Conn, br *bufio.Reader) int {
		t.Helper()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: "+strconv.Itoa(len(big))+"\r\n\r\n"+big); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("POST: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	t.Run("seen by GETs", func(t *testing.T) {
		var posts atomic.Int64
		b, _ := rawBackend(t, closingOnNext("HTTP/1.1 200 OK\r\n", &posts))
		c, br := dialProxy(t, proxyTo(t, b))
		for i := 0; i < 2; i++ { // the second meets the close, goes again, and teaches
			if i > 0 {
				idleFor(t, b, 2*time.Millisecond) // not checked before a GET
			}
			if code := sendOn(t, c, br, "GET"); code != 200 {
				t.Fatalf("GET %d: %d", i, code)
			}
		}
		for i := 0; i < 5; i++ {
			if code := post(t, c, br); code != 200 {
				t.Fatalf("large POST %d: %d, want 200", i, code)
			}
		}
		if posts.Load() != 5 {
			t.Fatalf("the worker got %d POSTs, want 5", posts.Load())
		}
	})
	t.Run("seen by a POST", func(t *testing.T) {
		var posts atomic.Int64
		b, _ := rawBackend(t, closingOnNext("HTTP/1.1 200 OK\r\n", &posts))
		c, br := dialProxy(t, proxyTo(t, b))
		codes := []int{}
		for i := 0; i < 6; i++ {
			codes = append(codes, post(t, c, br))
		}
		// The second one met the close, failed (never sent twice), and
		// taught: the ones after it went on new connections.
		if fmt.Sprint(codes) != "[200 502 200 200 200 200]" || posts.Load() != 5 {
			t.Fatalf("large POSTs: %v, the worker got %d, want [200 502 200 200 200 200] and 5", codes, posts.Load())
		}
	})
}
