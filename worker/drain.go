package worker

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// drainer tracks an http.Server's connections and drains them without
// the keep-alive close race: nothing is closed that a client may be using
// right now, except at the deadline.
type drainer struct {
	srv      *http.Server
	linger   time.Duration
	log      *slog.Logger
	draining atomic.Bool
	answered atomic.Int64   // responses sent with Connection: close
	changed  chan struct{}  // a connection closed during the drain
	loops    sync.WaitGroup // running srv.Serve calls

	mu         sync.Mutex
	conns      map[net.Conn]connInfo
	begun      time.Time
	idleClosed int
}

// connInfo is what the drain knows of one connection.
type connInfo struct {
	state   http.ConnState
	since   time.Time // when it entered state
	closing bool      // closed by the drain; StateClosed not seen yet
}

// newDrainer wraps srv's handler and ConnState hook; srv must not be
// serving yet.
func newDrainer(srv *http.Server, linger time.Duration, log *slog.Logger) *drainer {
	d := &drainer{srv: srv, linger: linger, log: log, changed: make(chan struct{}, 1), conns: map[net.Conn]connInfo{}}
	next := srv.Handler
	if next == nil {
		next = http.DefaultServeMux
	}
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &closingWriter{ResponseWriter: w, d: d}
		next.ServeHTTP(cw, r)
		if !cw.hijacked {
			cw.mark() // a handler that wrote nothing: the server sends 200
		}
	})
	userHook := srv.ConnState
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		d.track(c, s)
		if userHook != nil {
			userHook(c, s)
		}
	}
	return d
}

// track records a connection's new state (ConnState hook).
func (d *drainer) track(c net.Conn, s http.ConnState) {
	d.mu.Lock()
	if s == http.StateClosed || s == http.StateHijacked {
		delete(d.conns, c)
	} else {
		d.conns[c] = connInfo{state: s, since: time.Now()}
	}
	empty := len(d.conns) == 0
	d.mu.Unlock()
	if empty && d.draining.Load() {
		select {
		case d.changed <- struct{}{}:
		default:
		}
	}
}

// start begins the drain: from now on every response closes its
// connection.
func (d *drainer) start() {
	d.mu.Lock()
	d.begun = time.Now()
	d.mu.Unlock()
	d.draining.Store(true)
}

func (d *drainer) started() bool { return d.draining.Load() }

// loopsDone waits until every srv.Serve call has returned, or ctx ends.
func (d *drainer) loopsDone(ctx context.Context) error {
	done := make(chan struct{})
	go func() { d.loops.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return d.cutOff(fmt.Errorf("accept loops still running: %w", ctx.Err()))
	}
}

// wait returns once no connection is left, closing idle ones after the
// linger; when ctx ends it closes the rest and returns ctx's error.
func (d *drainer) wait(ctx context.Context) error {
	tick := time.NewTicker(min(max(d.linger/4, 5*time.Millisecond), 100*time.Millisecond))
	defer tick.Stop()
	for d.closeIdle(time.Now()) > 0 {
		select {
		case <-ctx.Done():
			return d.cutOff(ctx.Err())
		case <-tick.C:
		case <-d.changed:
		}
	}
	// Nothing is open: Shutdown only marks srv closed and runs the
	// functions given to srv.RegisterOnShutdown.
	_ = d.srv.Shutdown(ctx)
	d.mu.Lock()
	idle := d.idleClosed
	took := time.Since(d.begun)
	d.mu.Unlock()
	d.log.Info("drained", "took", took.Round(time.Millisecond), "answered_with_close", d.answered.Load(), "idle_closed", idle)
	return nil
}

// cutOff closes every connection left at the deadline.
func (d *drainer) cutOff(cause error) error {
	d.mu.Lock()
	open := len(d.conns)
	d.mu.Unlock()
	err := d.srv.Close()
	d.log.Warn("drain cut off at its deadline", "open_connections", open)
	return fmt.Errorf("%d connections still open, closed: %w (close: %v)", open, cause, err)
}

// closeIdle closes the connections idle (or new, with no request yet)
// for the linger, counted from the start of the drain at the earliest,
// unless their next request is already waiting to be read. It returns
// how many connections are still open.
func (d *drainer) closeIdle(now time.Time) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	for c, info := range d.conns {
		if info.closing || (info.state != http.StateIdle && info.state != http.StateNew) {
			continue
		}
		if now.Sub(later(info.since, d.begun)) < d.linger || pendingInput(c) {
			continue
		}
		_ = c.Close()
		info.closing = true
		d.conns[c] = info
		d.idleClosed++
	}
	return len(d.conns)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
