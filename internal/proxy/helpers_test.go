package proxy

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// portOf is the port of a listener's address.
func portOf(t testing.TB, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}

var nextID = 0

// httpBackend serves h and returns it as a backend with its own transport.
func httpBackend(t testing.TB, h http.Handler) *Backend {
	t.Helper()
	return backendOf(t, httptest.NewServer(h))
}

// backendOf is the started test server srv as a backend with its own
// upstream clients; both are closed when the test ends.
func backendOf(t testing.TB, srv *httptest.Server) *Backend {
	t.Helper()
	t.Cleanup(srv.Close)
	nextID++
	b := NewHTTPBackend(nextID, nextID, portOf(t, srv.Listener.Addr().String()))
	t.Cleanup(b.closeIdle)
	return b
}

// deadBackend is a backend whose port refuses connections.
func deadBackend(t *testing.T) *Backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := portOf(t, ln.Addr().String())
	ln.Close()
	nextID++
	b := NewHTTPBackend(nextID, nextID, port)
	return b
}

// startHTTP runs an http proxy over pool and returns its address.
func startHTTP(t testing.TB, pool *Pool) string {
	t.Helper()
	_, ln := serveHTTP(t, pool)
	return ln.Addr().String()
}

// serveHTTP runs an http proxy over pool on a listener of its own, closed
// with the proxy when the test ends.
func serveHTTP(t testing.TB, pool *Pool) (*HTTP, net.Listener) {
	t.Helper()
	h := NewHTTP(pool, quiet)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.Serve(ln) }()
	t.Cleanup(func() { _ = h.Close() })
	return h, ln
}

// noRetryClient never sends a request twice on its own (no keep-alive).
func noRetryClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
}

// tcpBackendOn listens on 127.0.0.1:port until the test ends.
func tcpBackendOn(t *testing.T, port int) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// loopbackOf is the loopback address of a test server at addr, a
// 127.0.0.1 or [::1] HOST:PORT.
func loopbackOf(t testing.TB, addr string) *loopback {
	t.Helper()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().IsLoopback() {
		t.Fatalf("loopbackOf(%q): not a loopback address (%v)", addr, err)
	}
	l := newLoopback(int(ap.Port()))
	l.onV6.Store(ap.Addr().Is6())
	return l
}
