package proxy

import (
	"context"
	"errors"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"
)

// Timeouts of the client side of the http proxy.
const (
	readHeaderTimeout = 30 * time.Second
	clientIdleTimeout = 2 * time.Minute
	// drainLinger is how long a stopping proxy keeps idle client
	// connections open while it answers with Connection: close, so that a
	// client's next request on one is answered rather than cut.
	drainLinger = 500 * time.Millisecond
)

// HTTP is the --proxy http reverse proxy: HTTP/1.1 from clients, each
// request to a ready worker, streaming flushed at once, upgrades
// (WebSocket) passed through.
type HTTP struct {
	Pool *Pool
	Log  *slog.Logger

	draining atomic.Bool
	server   *http.Server
}

// NewHTTP returns the proxy over pool.
func NewHTTP(pool *Pool, logger *slog.Logger) *HTTP {
	h := &HTTP{Pool: pool, Log: logger}
	rp := &httputil.ReverseProxy{
		Rewrite:   rewrite,
		Transport: &retrier{pool: pool},
		// 0 here, with streamAtOnce below, rather than -1: -1 costs every
		// response a timer goroutine and a write of the headers alone
		// before the body's own (8.7 against 7.6 system calls a request
		// in the master, small responses under wrk); with 0 the proxy
		// flushes at once exactly the responses that may stream.
		FlushInterval: 0,
		ErrorHandler:  h.fail,
		ModifyResponse: func(resp *http.Response) error {
			pool.counters.CountResponse(resp.StatusCode)
			streamAtOnce(resp)
			return nil
		},
		ErrorLog:   log.New(discard{}, "", 0),
		BufferPool: &copyBuffers{},
	}
	h.server = &http.Server{
		Handler: h.closing(rp), ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: clientIdleTimeout,
		ErrorLog: log.New(discard{}, "", 0),
	}
	return h
}

// bufferedResponse is the longest response body that the proxy sends to
// the client in one write once it has it all: such a body fits in the
// client connection's write buffer, so a worker sends it at once anyway.
const bufferedResponse = 4 << 10

// streamAtOnce makes the reverse proxy flush each piece of a response to
// the client as soon as the worker sent it, for every response that may
// stream: server-sent events and bodies of unknown length (the reverse
// proxy's own rule), and bodies longer than bufferedResponse (a download,
// a slow report), which get the same treatment by being marked of
// unknown length; their Content-Length header still goes to the client.
func streamAtOnce(resp *http.Response) {
	if resp.ContentLength > bufferedResponse {
		resp.ContentLength = -1
	}
}

// rewrite keeps the client's Host, adds X-Forwarded-For, -Host and
// -Proto; the backend's address is set per attempt by the retrier.
func rewrite(pr *httputil.ProxyRequest) {
	pr.SetXForwarded()
	pr.Out.URL.Scheme = "http"
	pr.Out.URL.Host = "worker"
}

// closing marks every response Connection: close once a drain began.
func (h *HTTP) closing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// fail answers a request no worker answered: 503 when none was ready in
// time, else 502. Every one is counted.
func (h *HTTP) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.Pool.counters.Failed.Add(1)
	if r.Context().Err() != nil {
		return // the client went away
	}
	h.Log.Debug("proxy: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	if noWorker(err) {
		h.Pool.counters.CountResponse(http.StatusServiceUnavailable)
		w.Header().Set("Retry-After", "1")
		http.Error(w, "503 no worker is ready", http.StatusServiceUnavailable)
		return
	}
	h.Pool.counters.CountResponse(http.StatusBadGateway)
	http.Error(w, "502 the worker failed to answer", http.StatusBadGateway)
}

// Serve answers on ln until the proxy is shut down.
func (h *HTTP) Serve(ln net.Listener) error {
	if err := h.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting, answers with Connection: close for a short
// linger, then closes idle client connections and waits (until ctx ends)
// for the requests in flight.
func (h *HTTP) Shutdown(ctx context.Context) error {
	if !h.draining.Swap(true) {
		t := time.NewTimer(drainLinger)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	return h.server.Shutdown(ctx)
}

// Close closes every client connection at once.
func (h *HTTP) Close() error { return h.server.Close() }

// copyBuffers lends the reverse proxy its 32 KiB buffers for copying
// response bodies, which it would otherwise allocate for every response.
type copyBuffers struct{ pool sync.Pool }

func (c *copyBuffers) Get() []byte {
	if b, ok := c.pool.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, 32<<10)
}

func (c *copyBuffers) Put(b []byte) { c.pool.Put(&b) }

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
