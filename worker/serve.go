package worker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ServeHTTP serves srv on every listener, sends READY=1 once it serves,
// and when ctx ends drains it:
//
//  1. STOPPING=1, and the listeners close (queued connections stay in the
//     shared accept queue for the other workers);
//  2. every response from then on carries "Connection: close", so each
//     keep-alive connection closes right after its current request;
//  3. a connection that is idle is closed only after IdleLinger (a request
//     its client is sending at that moment is still read and answered),
//     and whatever is still open at DrainTimeout is closed;
//  4. shutdown hooks run, last registered first.
//
// It returns nil after a clean drain, or the first serve, drain or hook
// error.
func ServeHTTP(ctx context.Context, srv *http.Server, lns []net.Listener, opts ...Option) error {
	d := &drainer{srv: srv, conns: map[net.Conn]connInfo{}}
	d.install()
	serve := func() error {
		errs := make(chan error, len(lns))
		for _, ln := range lns {
			go func(ln net.Listener) { errs <- srv.Serve(ln) }(ln)
		}
		for range lns {
			if err := <-errs; err != nil && !d.draining.Load() {
				return fmt.Errorf("serve http: %w", err)
			}
		}
		return nil
	}
	shutdown := func(ctx context.Context) error {
		d.draining.Store(true)
		for _, ln := range lns {
			ln.Close()
		}
		return d.drain(ctx, newOptions(opts).idleLinger)
	}
	return Run(ctx, serve, shutdown, opts...)
}

// Run is the generic form of ServeHTTP for any server: serve runs until
// the server stops; when ctx ends, shutdown is called with the drain
// deadline and must make serve return. Then the hooks run in reverse order.
// Run sends READY=1 when serve has been started and STOPPING=1 when the
// drain begins.
func Run(ctx context.Context, serve func() error, shutdown func(context.Context) error, opts ...Option) error {
	o := newOptions(opts)
	served := make(chan error, 1)
	go func() { served <- serve() }()
	if o.notify {
		_ = Ready()
	}
	var err error
	select {
	case err = <-served:
		if err != nil {
			return err
		}
	case <-ctx.Done():
	}
	if o.notify {
		_ = Stopping()
	}
	dctx, cancel := context.WithTimeout(context.Background(), o.drainTimeout)
	defer cancel()
	err = shutdown(dctx)
	if serr := <-served; err == nil {
		err = serr
	}
	for i := len(o.hooks) - 1; i >= 0; i-- {
		if herr := o.hooks[i](dctx); herr != nil && err == nil {
			err = fmt.Errorf("shutdown hook %d: %w", i, herr)
		}
	}
	return err
}

// drainer tracks connections and closes them without the keep-alive race.
type drainer struct {
	srv      *http.Server
	draining atomic.Bool
	mu       sync.Mutex
	conns    map[net.Conn]connInfo
}

type connInfo struct {
	state http.ConnState
	since time.Time // when it entered state
}

// install wraps the handler and ConnState hook of srv.
func (d *drainer) install() {
	next := d.srv.Handler
	if next == nil {
		next = http.DefaultServeMux
	}
	d.srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&closingWriter{ResponseWriter: w, draining: &d.draining}, r)
	})
	userHook := d.srv.ConnState
	d.srv.ConnState = func(c net.Conn, s http.ConnState) {
		d.mu.Lock()
		if s == http.StateClosed || s == http.StateHijacked {
			delete(d.conns, c)
		} else {
			d.conns[c] = connInfo{state: s, since: time.Now()}
		}
		d.mu.Unlock()
		if userHook != nil {
			userHook(c, s)
		}
	}
}

// drain waits until every connection is gone, closing idle ones after
// linger, and everything at ctx's deadline.
func (d *drainer) drain(ctx context.Context, linger time.Duration) error {
	start := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if d.closeIdle(start, linger) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			err := d.srv.Close()
			return errors.Join(fmt.Errorf("drain: %w", ctx.Err()), err)
		case <-tick.C:
		}
	}
}

// closeIdle closes connections idle (or new, with no request yet) for
// linger, counting from the drain's start at the earliest, and returns how
// many connections remain open.
func (d *drainer) closeIdle(start time.Time, linger time.Duration) int {
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	for c, info := range d.conns {
		if info.state == http.StateActive {
			continue
		}
		since := info.since
		if since.Before(start) {
			since = start
		}
		if now.Sub(since) >= linger {
			c.Close()
			delete(d.conns, c)
		}
	}
	return len(d.conns)
}

// closingWriter adds "Connection: close" to a response whose headers are
// written while the server drains, so a request already running when the
// drain began also ends its connection.
type closingWriter struct {
	http.ResponseWriter
	draining *atomic.Bool
	wrote    bool
}

func (w *closingWriter) mark() {
	if !w.wrote {
		w.wrote = true
		if w.draining.Load() {
			w.ResponseWriter.Header().Set("Connection", "close")
		}
	}
}

func (w *closingWriter) WriteHeader(code int) {
	if code >= 200 {
		w.mark()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *closingWriter) Write(b []byte) (int, error) {
	w.mark()
	return w.ResponseWriter.Write(b)
}

// Flush writes the headers too; it keeps http.Flusher working.
func (w *closingWriter) Flush() {
	w.mark()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *closingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
