package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/config"
)

// ipv6Loopback listens on [::1], or skips where the machine has no IPv6.
func ipv6Loopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here (%v): a worker cannot bind [::1]", err)
	}
	return ln
}

// TestAWorkerOnTheIPv6LoopbackAloneIsReachedThere: a program told
// "localhost" may bind [::1]:$PORT alone. A dial refused on 127.0.0.1
// tries [::1], the worker's address is [::1] from then on, and back to
// 127.0.0.1 when only that answers; with nothing on either, the error is
// 127.0.0.1's, where the worker should listen.
func TestAWorkerOnTheIPv6LoopbackAloneIsReachedThere(t *testing.T) {
	ln6 := ipv6Loopback(t)
	defer ln6.Close()
	port := ln6.Addr().(*net.TCPAddr).Port
	l := newLoopback(port)
	if got := l.String(); got != "127.0.0.1:"+strconv.Itoa(port) {
		t.Fatalf("before any dial: %s, want 127.0.0.1", got)
	}
	ctx := context.Background()
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := l.dial(ctx, d)
	if err != nil {
		t.Fatalf("dial a worker listening on [::1] alone: %v", err)
	}
	if got := c.RemoteAddr().String(); got != ln6.Addr().String() {
		t.Errorf("connected to %s, want %s", got, ln6.Addr())
	}
	c.Close()
	if got, want := l.String(), "[::1]:"+strconv.Itoa(port); got != want {
		t.Errorf("address after the dial: %s, want %s", got, want)
	}

	ln6.Close()
	ln4, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Skipf("port %d was taken on 127.0.0.1 meanwhile: %v", port, err)
	}
	c, err = l.dial(ctx, d)
	if err != nil {
		t.Fatalf("dial after the worker moved to 127.0.0.1: %v", err)
	}
	c.Close()
	if got := l.String(); !strings.HasPrefix(got, "127.0.0.1:") {
		t.Errorf("address after the worker moved: %s, want 127.0.0.1", got)
	}

	ln4.Close()
	_, err = l.dial(ctx, d)
	if !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), "127.0.0.1:") {
		t.Errorf("dial with nothing listening: %v, want 127.0.0.1's connection refused", err)
	}
}

// TestProbesPassForAWorkerOnTheIPv6Loopback: the tcp and http:PATH
// readiness probes, and the http upstream, reach a worker on [::1] alone.
func TestProbesPassForAWorkerOnTheIPv6Loopback(t *testing.T) {
	ln6 := ipv6Loopback(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("from [::1]\n"))
	}))
	srv.Listener.Close()
	srv.Listener = ln6
	srv.Start()
	defer srv.Close()
	port := ln6.Addr().(*net.TCPAddr).Port
	for _, ready := range []config.Readiness{{Kind: config.ReadyTCP}, {Kind: config.ReadyHTTP, Path: "/"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ok, err := probeRecorded(ctx, probeOptions{Ready: ready, Addr: newLoopback(port)}, false)
		cancel()
		if !ok {
			t.Errorf("%s probe of a worker on [::1]: did not pass: %v", ready, err)
		}
	}
	// Through the proxy: the front's upstream client (GET), and
	// http.Transport (a chunked body goes to net/http's reverse proxy).
	b := backendOf(t, srv)
	pool := NewPool(time.Second)
	pool.Add(b)
	addr := startHTTP(t, pool)
	for _, body := range []io.Reader{nil, io.MultiReader(strings.NewReader("chunked"))} {
		method := http.MethodGet
		if body != nil {
			method = http.MethodPost
		}
		req, err := http.NewRequest(method, "http://"+addr+"/", body)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := noRetryClient().Do(req)
		if err != nil {
			t.Fatalf("%s through the proxy to a worker on [::1]: %v", method, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(got) != "from [::1]\n" {
			t.Errorf("%s through the proxy: %d %q, want 200 %q", method, resp.StatusCode, got, "from [::1]\n")
		}
	}
	if b.Addr() != ln6.Addr().String() {
		t.Errorf("the backend's address: %s, want %s", b.Addr(), ln6.Addr())
	}
}
