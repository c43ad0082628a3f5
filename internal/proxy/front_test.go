package proxy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawExchange writes raw to the proxy on one connection and reads n
// responses back (to HEAD requests where heads says so).
func rawExchange(t *testing.T, addr, raw string, n int, heads ...int) []*http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []*http.Response
	for i := 0; i < n; i++ {
		req := &http.Request{Method: "GET"}
		for _, h := range heads {
			if h == i {
				req.Method = "HEAD"
			}
		}
		resp, err := http.ReadResponse(br, req)
		for err == nil && resp.StatusCode == http.StatusContinue {
			resp, err = http.ReadResponse(br, req) // an interim response
		}
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("response %d body: %v", i, err)
		}
		resp.Body = io.NopCloser(strings.NewReader(string(b)))
		out = append(out, resp)
	}
	return out
}

func bodyOf(r *http.Response) string { b, _ := io.ReadAll(r.Body); return string(b) }

// echoHandler answers with what it saw of the request.
func echoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/chunked":
			w.Header().Set("Trailer", "X-Sum")
			for _, p := range []string{"one ", "two ", "three"} {
				_, _ = io.WriteString(w, p)
				w.(http.Flusher).Flush()
			}
			w.Header().Set("X-Sum", "3")
			return
		case "/big":
			w.Header().Set("Content-Length", strconv.Itoa(100<<10))
			_, _ = io.WriteString(w, strings.Repeat("b", 100<<10))
			return
		}
		w.Header().Set("X-Hop", r.Header.Get("X-Hop"))
		w.Header().Set("Connection", "X-Private")
		w.Header().Set("X-Private", "worker only")
		fmt.Fprintf(w, "%s %s host=%s xff=%s xfh=%s xfp=%s ua=%q te=%q len=%d body=%s",
			r.Method, r.URL.RequestURI(), r.Host, r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Forwarded-Host"),
			r.Header.Get("X-Forwarded-Proto"), r.Header.Get("User-Agent"), r.Header.Get("Te"), len(body), body)
	})
}

func TestFrontAnswersPipelinedRequestsOnOneConnection(t *testing.T) {
	pool := NewPool(time.Second)
	b, cc, _ := countedBackend(t, echoHandler())
	pool.Add(b)
	addr := startHTTP(t, pool)
	raw := "GET /a?x=1 HTTP/1.1\r\nHost: example.test\r\nX-Forwarded-For: 6.6.6.6\r\nConnection: X-Hop\r\nX-Hop: secret\r\nTe: trailers\r\n\r\n" +
		"POST /b HTTP/1.1\r\nHost: example.test\r\nUser-Agent: curl\r\nContent-Length: 5\r\n\r\nhello" +
		"GET /chunked HTTP/1.1\r\nHost: example.test\r\n\r\n" +
		"GET /big HTTP/1.1\r\nHost: example.test\r\n\r\n" +
		"HEAD /big HTTP/1.1\r\nHost: example.test\r\n\r\n" +
		"GET /last HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n"
	rs := rawExchange(t, addr, raw, 6, 4)
	want := `GET /a?x=1 host=example.test xff=127.0.0.1 xfh=example.test xfp=http ua="" te="trailers" len=0 body=`
	if got := bodyOf(rs[0]); got != want || rs[0].Header.Get("X-Hop") != "" || rs[0].Header.Get("X-Private") != "" {
		t.Fatalf("GET: %q (X-Hop %q, X-Private %q)\nwant %q: hop-by-hop headers are not forwarded either way",
			got, rs[0].Header.Get("X-Hop"), rs[0].Header.Get("X-Private"), want)
	}
	if got := bodyOf(rs[1]); !strings.HasPrefix(got, `POST /b host=example.test`) || !strings.HasSuffix(got, `ua="curl" te="" len=5 body=hello`) {
		t.Fatalf("POST: %q", got)
	}
	if got := bodyOf(rs[2]); got != "one two three" || rs[2].Trailer.Get("X-Sum") != "3" || rs[2].ContentLength != -1 {
		t.Fatalf("chunked: %q, trailer %q, length %d", got, rs[2].Trailer.Get("X-Sum"), rs[2].ContentLength)
	}
	if got := bodyOf(rs[3]); len(got) != 100<<10 || rs[3].ContentLength != 100<<10 {
		t.Fatalf("big: %d bytes, Content-Length %d", len(got), rs[3].ContentLength)
	}
	if rs[4].StatusCode != 200 || rs[4].Header.Get("Content-Length") != strconv.Itoa(100<<10) {
		t.Fatalf("HEAD: %d, Content-Length %q", rs[4].StatusCode, rs[4].Header.Get("Content-Length"))
	}
	if !rs[5].Close || !strings.HasPrefix(bodyOf(rs[5]), "GET /last") {
		t.Fatalf("last: close %v", rs[5].Close)
	}
	// One, and one more after the HEAD, whose response announced a body
	// (announcesABody).
	if n := cc.opened.Load(); n != 2 {
		t.Fatalf("%d worker connections for 6 requests one after another, one of them HEAD, want 2", n)
	}
}

func TestFrontHandsOverWhatItDoesNotAnswer(t *testing.T) {
	pool := NewPool(time.Second)
	b, _, _ := countedBackend(t, echoHandler())
	pool.Add(b)
	addr := startHTTP(t, pool)
	big := strings.Repeat("x", 40<<10)
	cases := []struct{ name, raw, want string }{
		{"HTTP/1.0 with no Host", "GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "xfh= xfp=http"},
		{"chunked body", "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "len=5 body=hello"},
		{"large body", "PUT /l HTTP/1.1\r\nHost: h\r\nContent-Length: " + strconv.Itoa(len(big)) + "\r\n\r\n" + big, "len=40960 body=xxx"},
		{"Expect", "POST /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi", "len=2 body=hi"},
		{"long head", "GET /h HTTP/1.1\r\nHost: h\r\nX-Long: " + strings.Repeat("y", 10<<10) + "\r\n\r\n", "GET /h host=h"},
	}
	for _, tc := range cases {
		// A plain request first, so that the hand-over comes in the middle
		// of a connection the front served, then one more after it.
		raw := "GET /first HTTP/1.1\r\nHost: h\r\n\r\n" + tc.raw + "GET /after HTTP/1.1\r\nHost: h\r\n\r\n"
		rs := rawExchange(t, addr, raw, 3)
		if got := bodyOf(rs[1]); rs[1].StatusCode != 200 || !strings.Contains(got, tc.want) {
			t.Fatalf("%s: %d %.80q, want %q in it", tc.name, rs[1].StatusCode, got, tc.want)
		}
		if got := bodyOf(rs[2]); !strings.HasPrefix(got, "GET /after") {
			t.Fatalf("%s: the request after it got %.80q", tc.name, got)
		}
	}
}

func TestFrontRefusesBadRequests(t *testing.T) {
	pool := NewPool(time.Second)
	pool.Add(httpBackend(t, echoHandler()))
	addr := startHTTP(t, pool)
	for name, raw := range map[string]string{
		"two Host fields": "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"no Host":         "GET / HTTP/1.1\r\nX: y\r\n\r\n",
		"not HTTP":        "HELLO THERE\r\n\r\n",
	} {
		rs := rawExchange(t, addr, raw, 1)
		if rs[0].StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: %d, want 400", name, rs[0].StatusCode)
		}
	}
}

func TestFrontCancelsTheRequestOfAClientThatLeft(t *testing.T) {
	arrived, cancelled := make(chan struct{}), make(chan struct{})
	pool := NewPool(time.Second)
	b := httpBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(20 * time.Second):
		}
	}))
	pool.Add(b)
	addr := startHTTP(t, pool)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(c, "GET /poll HTTP/1.1\r\nHost: h\r\n\r\n")
	// The worker's handler runs: counted open (b.Open) is not enough, the
	// request may not be written yet, and a cancel then never reaches it.
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the long poll did not reach the worker")
	}
	_ = c.(*net.TCPConn).SetLinger(0) // a reset: a client that only half-closed still gets its answer
	c.Close()
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker's request went on after its client left")
	}
	waitFor(t, "the request to end", func() bool { return b.Open() == 0 })
}

func TestFrontDrainClosesIdleConnectionsAndFinishesRequests(t *testing.T) {
	release := make(chan struct{})
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	defer free()
	pool := NewPool(time.Second)
	pool.Add(httpBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		_, _ = io.WriteString(w, "ok")
	})))
	h, ln := serveHTTP(t, pool)
	addr := ln.Addr().String()

	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	idleR := bufio.NewReader(idle)
	_, _ = io.WriteString(idle, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	if resp, err := http.ReadResponse(idleR, nil); err != nil || resp.Close || bodyOf(resp) != "ok" {
		t.Fatalf("before the drain: %v, close %v", err, resp != nil && resp.Close)
	}
	busy, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, _ = io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
	waitFor(t, "the slow request to be in flight", func() bool { return pool.Ready() == 1 && h.activeFront() == 1 })

	ln.Close()
	shut := make(chan error)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		shut <- h.Shutdown(ctx)
	}()
	// The idle connection is closed after the linger.
	_ = idle.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := idleR.ReadByte(); err != io.EOF {
		t.Fatalf("the idle connection: %v, want it closed (EOF)", err)
	}
	free()
	resp, err := http.ReadResponse(bufio.NewReader(busy), nil)
	if err != nil || !resp.Close || bodyOf(resp) != "ok" {
		t.Fatalf("the request in flight: %v, close %v", err, resp != nil && resp.Close)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// A pipelined request that reaches the socket while the front waits for
// the worker's answer to the one before it is answered too (the front
// must not wait for the client to send more).
func TestFrontAnswersARequestPipelinedWhileTheWorkerAnswers(t *testing.T) {
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	pool := NewPool(time.Second)
	pool.Add(httpBackend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/first" {
			arrived <- struct{}{}
			<-release
		}
		_, _ = io.WriteString(w, r.URL.Path)
	})))
	addr := startHTTP(t, pool)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for i := 0; i < 3; i++ {
		_, _ = io.WriteString(c, "GET /first HTTP/1.1\r\nHost: h\r\n\r\n")
		<-arrived
		_, _ = io.WriteString(c, "GET /second HTTP/1.1\r\nHost: h\r\n\r\n")
		// The second request is in the proxy's socket, unread, before the
		// first is answered.
		waitFor(t, "the second request to reach the proxy's socket", func() bool {
			return unreadBytes(t, c.RemoteAddr().String(), c.LocalAddr().String()) > 0
		})
		release <- struct{}{}
		for _, want := range []string{"/first", "/second"} {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("round %d, %s: %v", i, want, err)
			}
			if got := bodyOf(resp); got != want {
				t.Fatalf("round %d: %q, want %q", i, got, want)
			}
		}
	}
}

// unreadBytes is how many bytes the loopback TCP socket local, connected
// to remote, has received and not read yet (/proc/net/tcp's rx_queue).
func unreadBytes(t *testing.T, local, remote string) int {
	t.Helper()
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	hexAddr := func(addr string) string {
		ap, err := netip.ParseAddrPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		ip := ap.Addr().As4()
		return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], ap.Port())
	}
	l, r := hexAddr(local), hexAddr(remote)
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 4 && f[1] == l && f[2] == r {
			q := strings.Split(f[4], ":")
			n, _ := strconv.ParseInt(q[1], 16, 64)
			return int(n)
		}
	}
	return 0
}

func TestFrontAnswersHTTP10(t *testing.T) {
	pool := NewPool(time.Second)
	b, cc, _ := countedBackend(t, echoHandler())
	pool.Add(b)
	addr := startHTTP(t, pool)
	raw := "GET /a HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n" +
		"GET /chunked HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n"
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(c, raw)
	all, err := io.ReadAll(c) // the second response ends with the connection
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(bytes.NewReader(all))
	first, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.Proto != "HTTP/1.0" || first.Header.Get("Connection") != "keep-alive" || !strings.HasPrefix(bodyOf(first), "GET /a host=h") {
		t.Fatalf("first: %s, Connection %q", first.Proto, first.Header.Get("Connection"))
	}
	second, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := bodyOf(second); got != "one two three" || len(second.TransferEncoding) != 0 || !second.Close {
		t.Fatalf("second: %q, Transfer-Encoding %v, close %v: a body of unknown length ends with the connection for HTTP/1.0",
			got, second.TransferEncoding, second.Close)
	}
	if n := cc.opened.Load(); n != 1 {
		t.Fatalf("%d worker connections, want 1", n)
	}
	// Without keep-alive, HTTP/1.0 closes after one response.
	rs := rawExchange(t, addr, "GET /b HTTP/1.0\r\nHost: h\r\n\r\n", 1)
	if !rs[0].Close || rs[0].Header.Get("Connection") != "close" {
		t.Fatalf("HTTP/1.0 without keep-alive: close %v, Connection %q", rs[0].Close, rs[0].Header.Get("Connection"))
	}
}

// activeFront is how many of the front's client connections are
// answering a request now.
func (h *HTTP) activeFront() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for c := range h.conns {
		if c.state.Load() == frontActive {
			n++
		}
	}
	return n
}
