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
	"syscall"
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
// (WebSocket) passed through. Plain requests are answered by the front
// (front.go); the others by net/http's server and httputil.ReverseProxy,
// on the connections the front hands over.
type HTTP struct {
	Pool *Pool
	Log  *slog.Logger

	rt       *retrier
	buffers  *copyBuffers
	idleBufs *frontBuffers
	draining atomic.Bool
	server   *http.Server
	handoff  *handoffListener
	start    sync.Once

	mu     sync.Mutex
	conns  map[*frontConn]struct{} // the front's client connections
	closed bool
}

// NewHTTP returns the proxy over pool.
func NewHTTP(pool *Pool, logger *slog.Logger) *HTTP {
	h := &HTTP{Pool: pool, Log: logger, rt: &retrier{pool: pool}, buffers: &copyBuffers{}, idleBufs: &frontBuffers{},
		handoff: newHandoffListener(), conns: map[*frontConn]struct{}{}}
	rp := &httputil.ReverseProxy{
		Rewrite:   rewrite,
		Transport: h.rt,
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
		BufferPool: h.buffers,
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
	h.start.Do(func() { go func() { _ = h.server.Serve(h.handoff) }() })
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
				errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM) {
				// Out of descriptors or memory for a moment: as net/http does.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				h.Log.Warn("proxy: accept", "err", err, "retry_in", backoff.String())
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		h.acceptFront(nc)
	}
}

// Shutdown answers with Connection: close for a short linger, then closes
// idle client connections and waits (until ctx ends) for the requests in
// flight.
func (h *HTTP) Shutdown(ctx context.Context) error {
	if !h.draining.Swap(true) {
		t := time.NewTimer(drainLinger)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	served := make(chan error, 1)
	go func() { served <- h.server.Shutdown(ctx) }()
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		h.closeIdleFront()
		h.mu.Lock()
		left := len(h.conns)
		h.mu.Unlock()
		if left == 0 {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	return <-served
}

// Close closes every client connection at once.
func (h *HTTP) Close() error {
	h.mu.Lock()
	h.closed = true
	for c := range h.conns {
		c.nc.Close()
	}
	h.mu.Unlock()
	h.handoff.Close()
	return h.server.Close()
}

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
