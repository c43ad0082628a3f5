package worker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// Serve serves srv on every listener until ctx ends (see
// SignalContext), then drains it without the keep-alive close race and
// runs the OnShutdown hooks. It is Run for an *http.Server:
//
//   - READY=1 is sent once every listener is in its accept loop;
//   - when ctx ends: STOPPING=1, and the listeners close (connections
//     queued on a socket shared with other workers stay queued for them);
//   - from then on every response carries "Connection: close", including
//     responses to requests already running and to requests that arrive
//     on existing keep-alive connections, which are served normally, so
//     each client learns to reconnect after its current request;
//   - a connection idle during the drain is closed only after IdleLinger
//     (and not while its next request is already waiting to be read), so
//     a request its client has just sent is answered rather than lost;
//   - the drain ends when no connection is left; at DrainTimeout the rest
//     are closed, cutting off their requests;
//   - the hooks run, last registered first.
//
// Plain http.Server.Shutdown instead closes idle keep-alive connections at
// once, racing with clients that are sending their next request on them.
//
// Serve installs a wrapper around srv.Handler (http.DefaultServeMux
// when nil) and a ConnState hook that chains to srv.ConnState, so srv must
// not be serving yet. Draining relies on HTTP/1.x "Connection: close";
// HTTP/2 connections stay open until DrainTimeout. Hijacked connections
// (WebSockets) are the handler's: close them from a hook. It returns nil
// after a clean drain, else the errors of serving, draining and hooks.
func Serve(ctx context.Context, srv *http.Server, lns []net.Listener, opts ...Option) error {
	if len(lns) == 0 {
		return errors.New("serve http: no listeners")
	}
	o := newOptions(opts)
	d := newDrainer(srv, o.idleLinger, o.log)
	serve := func(ready func()) error { return serveAll(srv, lns, d, ready) }
	shutdown := func(ctx context.Context) error {
		d.start()
		var errs []error
		for _, ln := range lns {
			if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, fmt.Errorf("close listener %s: %w", ln.Addr(), err))
			}
		}
		// A connection accepted just before the close is tracked by the
		// time its accept loop returns: wait for the loops, then drain.
		if err := d.loopsDone(ctx); err != nil {
			return errors.Join(append(errs, err)...)
		}
		return errors.Join(append(errs, d.wait(ctx))...)
	}
	return Run(ctx, serve, shutdown, opts...)
}

// serveAll runs srv.Serve on every listener, calls ready once all of them
// accept, and returns when all have stopped, or at the first failure that
// is not the drain closing them.
func serveAll(srv *http.Server, lns []net.Listener, d *drainer, ready func()) error {
	var waiting atomic.Int64
	waiting.Store(int64(len(lns)))
	accepting := func() {
		if waiting.Add(-1) == 0 {
			ready()
		}
	}
	errs := make(chan error, len(lns))
	for _, ln := range lns {
		al := &acceptingListener{Listener: ln, accepting: accepting}
		d.loops.Add(1)
		go func() {
			defer d.loops.Done()
			errs <- srv.Serve(al)
		}()
	}
	for range lns {
		if err := <-errs; err != nil && !d.started() {
			return fmt.Errorf("serve http: %w", err)
		}
	}
	return nil
}

// acceptingListener reports its first Accept: the server is in its
// accept loop, so the socket is being served.
type acceptingListener struct {
	net.Listener
	once      sync.Once
	accepting func()
}

func (l *acceptingListener) Accept() (net.Conn, error) {
	l.once.Do(l.accepting)
	return l.Listener.Accept()
}
