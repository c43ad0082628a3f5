package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// upstream is one backend's HTTP/1.1 client for plain requests (no
// upgrade, a body of at most singleWrite bytes): a stack of idle
// keep-alive connections to the worker, and each request written and its
// response read in the goroutine that serves the client. http.Transport,
// which still carries upgrades and streamed bodies, hands every request
// to two goroutines of its own, a writer and a reader: on two shared
// cores those hand-offs cost more than the proxying itself.
type upstream struct {
	dial   func(context.Context, *net.Dialer) (net.Conn, error) // to the worker (Backend.dial)
	dialer net.Dialer

	mu      sync.Mutex
	idle    []*upConn // the most recently used last
	retired bool      // the worker drained: no connection is kept idle any more
	sweep   *time.Timer

	// closedIdle is the shortest time idle after which the worker was
	// seen to have closed a kept-alive connection (nanoseconds; 0 until
	// seen): a request that cannot be sent twice is not written on one
	// idle for half of it or more.
	closedIdle atomic.Int64
}

// probeIdle: a connection idle for longer is checked before it carries a
// request (one system call), so that one the worker closed meanwhile
// (its keep-alive timeout, a restart of its server) is not used: a
// request written on it could not be sent again unless idempotent.
const probeIdle = 5 * time.Millisecond

// maxIdleUpstream bounds the idle connections kept to one worker.
const maxIdleUpstream = 1024

// maxKeptRequest: an idle connection keeps the buffer its last request
// was written to only up to this size.
const maxKeptRequest = 32 << 10

func newUpstream(dial func(context.Context, *net.Dialer) (net.Conn, error)) *upstream {
	return &upstream{dial: dial, dialer: net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}}
}

// upConn is one connection to the worker.
type upConn struct {
	nc    net.Conn
	raw   syscall.RawConn
	br    *bufio.Reader
	out   bytes.Buffer // the request being sent
	since time.Time    // idle since
	used  bool         // carried a request before: the worker may have closed it meanwhile
	// idleFor is how long it was idle when it was taken for a request.
	idleFor time.Duration
}

// get returns an idle connection that has not been idle too long, or a
// new one. A request that cannot be sent twice (replay false) is written
// only on a connection that the worker is not about to close (reuseWithin)
// and that it has not closed already: checked, however short its idle
// time; a worker may close after a response without saying so.
func (u *upstream) get(ctx context.Context, replay bool) (*upConn, error) {
	now := time.Now()
	var c *upConn
	for c == nil {
		u.mu.Lock()
		n := len(u.idle)
		if n == 0 {
			u.mu.Unlock()
			break
		}
		top := u.idle[n-1]
		idle := now.Sub(top.since)
		if !replay && idle >= u.reuseWithin() {
			u.mu.Unlock()
			break // a new connection; the idle ones stay for requests that can be sent again
		}
		u.idle[n-1] = nil
		u.idle = u.idle[:n-1]
		u.mu.Unlock()
		switch {
		case idle >= upstreamIdle:
			top.nc.Close()
		case (replay && idle < probeIdle) || top.open():
			c = top
			c.idleFor = idle
		default:
			u.sawClosed(idle)
			top.nc.Close()
		}
	}
	if c != nil {
		return c, nil
	}
	nc, err := u.dial(ctx, &u.dialer)
	if err != nil {
		return nil, err
	}
	raw, err := nc.(syscall.Conn).SyscallConn()
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &upConn{nc: nc, raw: raw, br: bufio.NewReaderSize(nc, 16<<10)}, nil
}

// reuseWithin is how long a connection may have been idle and still
// carry a request that cannot be sent twice: half of upstreamIdle, far
// from the idle timeout of any worker that keeps a connection a second
// (Node since 20.20, with a keepAliveTimeout under a second, closes one
// after that timeout plus 1 s), and half of the shortest idle after
// which this worker was seen to close one.
func (u *upstream) reuseWithin() time.Duration {
	limit := time.Duration(upstreamIdle / 2)
	if seen := u.closedIdle.Load(); seen > 0 {
		limit = min(limit, time.Duration(seen)/2)
	}
	return limit
}

// sawClosed records that the worker closed a connection idle for idle.
func (u *upstream) sawClosed(idle time.Duration) {
	idle = max(idle, time.Nanosecond)
	for {
		seen := u.closedIdle.Load()
		if seen > 0 && seen <= int64(idle) || u.closedIdle.CompareAndSwap(seen, int64(idle)) {
			return
		}
	}
}

// open says whether the worker kept c open and sent nothing unasked.
func (c *upConn) open() bool {
	alive := false
	err := c.raw.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		alive = err == syscall.EAGAIN // not EOF, not data, not an error
		return true
	})
	return err == nil && alive
}

// put keeps c for the next request, unless the worker drained; the sweep
// closes it once it has been idle for upstreamIdle, before the worker's
// own keep-alive timeout would.
func (u *upstream) put(c *upConn) {
	c.since = time.Now()
	c.used = true
	u.mu.Lock()
	if u.retired || len(u.idle) >= maxIdleUpstream {
		u.mu.Unlock()
		c.nc.Close()
		return
	}
	u.idle = append(u.idle, c)
	if u.sweep == nil {
		u.sweep = time.AfterFunc(upstreamIdle, u.sweepIdle)
	}
	u.mu.Unlock()
}

// sweepIdle closes the connections idle for upstreamIdle, and runs
// again while any is left.
func (u *upstream) sweepIdle() {
	now := time.Now()
	u.mu.Lock()
	n := 0
	for n < len(u.idle) && now.Sub(u.idle[n].since) >= upstreamIdle {
		n++
	}
	stale := append([]*upConn(nil), u.idle[:n]...)
	u.idle = append(u.idle[:0], u.idle[n:]...)
	if len(u.idle) > 0 && !u.retired {
		u.sweep.Reset(upstreamIdle)
	} else {
		u.sweep = nil
	}
	u.mu.Unlock()
	for _, c := range stale {
		c.nc.Close()
	}
}

// retire closes every idle connection and keeps none from now on: the
// worker is drained and is about to be stopped.
func (u *upstream) retire() {
	u.mu.Lock()
	idle := u.idle
	u.idle, u.retired = nil, true
	if u.sweep != nil {
		u.sweep.Stop()
		u.sweep = nil
	}
	u.mu.Unlock()
	for _, c := range idle {
		c.nc.Close()
	}
}

// errUpstreamClosed is a response that never began: the worker closed
// the connection (or reset it) before the first byte of one.
var errUpstreamClosed = errors.New("the worker closed the connection before a response")

// roundTrip sends req on a connection of u and reads the response's
// head; the response's body reads from the same connection, which goes
// back to the idle stack once the body was read to its end and closed.
// A kept-alive connection that the worker closed meanwhile costs no
// failure: the request goes again, once, on a new connection, when
// nothing of a response came back and the request can be sent twice
// (nothing was written, or it is idempotent); a rewritten request's body
// is given by body.
func (u *upstream) roundTrip(req *http.Request, a *attempt, body func() io.ReadCloser) (*http.Response, error) {
	ctx := req.Context()
	for {
		c, err := u.get(ctx, idempotent(req))
		if err != nil {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: err}
		}
		a.gotConn.Store(true)
		used := c.used
		resp, err := u.exchange(ctx, c, req, a)
		if err == nil {
			return resp, nil
		}
		c.nc.Close()
		if used && !a.firstByte.Load() && errors.Is(err, errUpstreamClosed) {
			u.sawClosed(c.idleFor)
		}
		if !used || a.firstByte.Load() || ctx.Err() != nil || (a.wrote.Load() && !idempotent(req)) {
			return nil, err
		}
		a.wrote.Store(false)
		req.Body = body() // the worker closed an idle connection: once more on a new one
	}
}

// exchange writes req on c and reads the response's head, recording in a
// how far it got.
func (u *upstream) exchange(ctx context.Context, c *upConn, req *http.Request, a *attempt) (*http.Response, error) {
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
	if c.out.Cap() > maxKeptRequest {
		c.out = bytes.Buffer{}
	}
	c.out.Reset()
	if err := req.Write(&c.out); err != nil {
		stop()
		return nil, fmt.Errorf("write the request to the worker: %w", err)
	}
	if err := sendThenAwait(c.raw, c.nc, c.out.Bytes()); err != nil {
		stop()
		return nil, fmt.Errorf("write the request to the worker: %w", err)
	}
	a.wrote.Store(true)
	for {
		if _, err := c.br.Peek(1); err != nil {
			stop()
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
				err = errUpstreamClosed
			}
			return nil, err
		}
		a.firstByte.Store(true)
		resp, err := http.ReadResponse(c.br, req)
		if err != nil {
			stop()
			return nil, fmt.Errorf("read the worker's response: %w", err)
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 {
			if resp.StatusCode == http.StatusSwitchingProtocols {
				stop()
				return nil, errors.New("the worker switched protocols on a request that asked for no upgrade")
			}
			continue // 100 Continue, 103 Early Hints: the final response follows
		}
		resp.Body = &upBody{r: resp.Body, u: u, c: c, stop: stop, eof: resp.Body == http.NoBody,
			keep: !resp.Close && !req.Close && !announcesABody(req, resp)}
		return resp, nil
	}
}

// announcesABody says whether a response that has no body by protocol
// (to a HEAD, a 204, a 304) announced one all the same: a worker that
// serves HEAD as it serves GET (a WSGI app under gunicorn, a Python
// handler with do_HEAD = do_GET) sends that body too, maybe after the
// head, and it would be read as the next request's response. Such a
// connection is not kept.
func announcesABody(req *http.Request, resp *http.Response) bool {
	if !bodyless(req.Method, resp.StatusCode) {
		return false
	}
	cl := resp.Header["Content-Length"]
	return len(resp.TransferEncoding) > 0 || len(cl) > 0 && cl[0] != "0"
}

// bodyless says whether a final response to method with code has no body
// by protocol: one to a HEAD, a 204 or a 304.
func bodyless(method string, code int) bool {
	return method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified
}

// sendThenAwait writes p to a connection and waits until it can be read.
// The wait is armed before the write, so that the read that follows is
// not tried (and found empty) before the peer answered: one system call
// less than a write followed by a read. Whatever one write could not take
// is written the usual way.
//
// Arming clears what the poller noticed before, so this is only for a
// peer that sends nothing unasked: a worker answering a request. (A
// client may pipeline its next request before it has the answer; the
// front reads the usual way.) A worker that closed the connection
// meanwhile answers the request with a reset, which wakes the wait.
func sendThenAwait(raw syscall.RawConn, nc net.Conn, p []byte) error {
	var werr error
	sent, waiting := 0, false
	err := raw.Read(func(fd uintptr) bool {
		if waiting {
			return true // readable now, or closed: the caller reads
		}
		for sent < len(p) {
			n, err := syscall.Write(int(fd), p[sent:])
			if n > 0 {
				sent += n
			}
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				if err != syscall.EAGAIN {
					werr = os.NewSyscallError("write", err)
				}
				return true
			}
		}
		waiting = true
		return false
	})
	if werr != nil {
		return werr
	}
	if sent < len(p) {
		// Not all written (a full socket buffer, or a read deadline that
		// had passed): the rest the usual way; the caller's read waits.
		_, werr = nc.Write(p[sent:])
		return werr
	}
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	return nil
}

// upBody is a response's body read from an upstream connection.
type upBody struct {
	r    io.ReadCloser
	u    *upstream
	c    *upConn
	stop func() bool
	eof  bool
	keep bool // the connection may carry another request
	done bool
}

func (b *upBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, net.ErrClosed
	}
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

// Close gives the connection back once the body was read to its end;
// otherwise (the client went away in the middle) it closes it.
func (b *upBody) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	cancelled := !b.stop()
	if b.eof && b.keep && !cancelled && b.c.br.Buffered() == 0 {
		b.u.put(b.c)
		return nil
	}
	return b.c.nc.Close()
}

// fastPath says whether a request goes through the backend's own
// upstream client rather than http.Transport: no upgrade, and a body
// (if any) already in memory and small enough to leave in one write.
func fastPath(req *http.Request, body *replayBody) bool {
	return body.stream == nil && len(body.buf) <= singleWrite && req.Header.Get("Upgrade") == "" &&
		req.Header.Get("Connection") == ""
}
