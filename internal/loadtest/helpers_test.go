package loadtest

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// okResponse is a minimal keep-alive 200 for raw servers.
const okResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

// testCtx is a context that ends with the test (or after 15s at most), so
// no test can hang forever.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// serveHTTP serves h with net/http on ln and returns the number of
// connections the server has accepted so far.
func serveHTTP(t *testing.T, ln net.Listener, h http.HandlerFunc) *atomic.Int64 {
	t.Helper()
	var accepted atomic.Int64
	srv := &http.Server{
		Handler: h,
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				accepted.Add(1)
			}
		},
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &accepted
}

// startHTTP serves h on 127.0.0.1:0 and returns its address.
func startHTTP(t *testing.T, h http.HandlerFunc) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln.Addr().String(), serveHTTP(t, ln, h)
}

// startRaw accepts TCP connections on 127.0.0.1:0 and runs handle on
// each in its own goroutine. Cleanup closes the listener and every
// connection and waits for the handlers.
func startRaw(t *testing.T, handle func(c *net.TCPConn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c.(*net.TCPConn), bufio.NewReader(c))
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// readRequest reads one whole request (head and body) from br.
func readRequest(br *bufio.Reader) error {
	req, err := http.ReadRequest(br)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, req.Body)
	return err
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// check fails the test with the run's summary when got != want.
func check(t *testing.T, r Result, name string, got, want int64) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %d, want %d\nresult: %v\nfirst errors: %q", name, got, want, r, r.FirstErrors)
	}
}

// checkInvariants verifies what must hold for every Result.
func checkInvariants(t *testing.T, r Result) {
	t.Helper()
	check(t, r, "OK+Failed", r.OK+r.Failed, r.Sent)
	var sum int64
	for _, n := range r.Errors {
		sum += n
	}
	check(t, r, "sum(Errors)", sum, r.Failed)
	if r.Failed > 0 && len(r.FirstErrors) == 0 {
		t.Errorf("Failed = %d but FirstErrors is empty", r.Failed)
	}
	if len(r.FirstErrors) > maxFirstErrors {
		t.Errorf("len(FirstErrors) = %d, want <= %d", len(r.FirstErrors), maxFirstErrors)
	}
	if r.OK > 0 && !(0 < r.P50 && r.P50 <= r.P90 && r.P90 <= r.P99 && r.P99 <= r.Max) {
		t.Errorf("latencies not ordered: %v", r)
	}
}
