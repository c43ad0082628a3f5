package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// maxAttempts bounds how many workers one request is sent to.
const maxAttempts = 4

// upstreamIdle is how long an idle upstream connection is kept: shorter
// than the keep-alive timeouts of common servers (Node 5 s, gunicorn 2 s),
// so that baton closes an idle connection before the worker does and never
// sends a request on one the worker is closing.
const upstreamIdle = time.Second

// newTransport returns the upstream transport of one backend, which dial
// connects to: keep-alive with enough idle connections for a busy worker,
// no compression of its own (responses pass as they are), HTTP/1.1 only.
func newTransport(dial func(context.Context, *net.Dialer) (net.Conn, error)) *http.Transport {
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext:  func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx, d) },
		MaxIdleConns: 0, MaxIdleConnsPerHost: 1024,
		IdleConnTimeout: upstreamIdle, ExpectContinueTimeout: time.Second,
		DisableCompression: true, ForceAttemptHTTP2: false,
		ReadBufferSize: 32 << 10, WriteBufferSize: 32 << 10,
	}
}

// retrier is the reverse proxy's RoundTripper: it picks a backend for each
// attempt and sends the request again to another one when that is safe.
type retrier struct{ pool *Pool }

// attempt records how far one attempt got, from httptrace callbacks
// (which the transport may call from its own goroutines).
type attempt struct {
	gotConn, wrote, firstByte atomic.Bool
	reusedIdle                atomic.Int64 // a kept-alive connection's idle time (ns, at least 1); 0: a new one
}

func (a *attempt) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) {
			a.gotConn.Store(true)
			if i.Reused {
				a.reusedIdle.Store(max(int64(i.IdleTime), 1))
			}
		},
		WroteRequest:         func(i httptrace.WroteRequestInfo) { a.wrote.Store(i.Err == nil) },
		GotFirstResponseByte: func() { a.firstByte.Store(true) },
	}
}

func (r *retrier) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := newReplayBody(req)
	if err != nil {
		return nil, err
	}
	defer body.close()
	var tried map[*Backend]bool // made at the first retry
	for n := 1; ; n++ {
		b, err := r.pool.Pick(req.Context(), tried)
		if err != nil {
			return nil, err
		}
		resp, a, err := r.send(req, b, body)
		if err == nil {
			releaseOnClose(resp, b)
			return resp, nil
		}
		b.Release()
		if n >= maxAttempts || !retryable(req, a, body, err) {
			return nil, err
		}
		if tried == nil {
			tried = map[*Backend]bool{}
		}
		tried[b] = true
		r.pool.counters.Retries.Add(1)
	}
}

// send makes one attempt on b.
func (r *retrier) send(req *http.Request, b *Backend, body *replayBody) (*http.Response, *attempt, error) {
	a := &attempt{}
	u := *req.URL
	u.Scheme, u.Host = "http", b.Addr()
	if b.upstream != nil && fastPath(req, body) {
		out := *req // the upstream client records the attempt's progress itself
		out.URL, out.Body = &u, body.next()
		resp, err := b.upstream.roundTrip(&out, a, body.next)
		return resp, a, err
	}
	out := req.WithContext(httptrace.WithClientTrace(req.Context(), a.trace()))
	out.URL, out.Body = &u, body.next()
	resp, err := b.transportFor(req).RoundTrip(out)
	if idle := a.reusedIdle.Load(); err != nil && idle > 0 && !a.firstByte.Load() && req.Context().Err() == nil && b.upstream != nil {
		b.upstream.sawClosed(time.Duration(idle)) // the worker closed a kept connection
	}
	return resp, a, err
}

// retryable says whether a failed attempt may go to another worker: never
// once the client went away or the body cannot be sent again; always when
// nothing reached the worker (no connection, a refused dial, or a small
// request whose one write failed); for idempotent requests also when the
// worker closed before any byte of a response. A POST that was written is
// never sent again.
func retryable(req *http.Request, a *attempt, body *replayBody, err error) bool {
	if req.Context().Err() != nil || !body.replayable() {
		return false
	}
	var op *net.OpError
	if !a.gotConn.Load() || (errors.As(err, &op) && op.Op == "dial") {
		return true
	}
	if body.stream != nil {
		return false // the transport may have read some of it
	}
	if !a.wrote.Load() && !a.firstByte.Load() && len(body.buf) <= singleWrite {
		return true
	}
	return idempotent(req) && !a.firstByte.Load()
}

// singleWrite is the largest body sent with its headers in one write (the
// transport's 32 KiB buffer less room for headers): when that write
// failed, the worker got nothing it could act on.
const singleWrite = 16 << 10

// idempotent: the methods RFC 9110 calls idempotent, or a request that
// carries an Idempotency-Key.
func idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return req.Header.Get("Idempotency-Key") != "" || req.Header.Get("X-Idempotency-Key") != ""
}

// noWorker says whether err means that no worker could be picked.
func noWorker(err error) bool {
	return errors.Is(err, ErrNoBackend) || errors.Is(err, ErrClosed)
}
