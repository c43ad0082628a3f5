package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Run runs any server the way Serve runs an HTTP one.
//
// serve runs the server until it stops; it calls ready once it accepts
// work, and Run then sends READY=1 (with STATUS=serving) once; a serve
// that never calls ready is never reported ready. From then until the
// drain, when the supervisor runs a watchdog (WATCHDOG_USEC), Run sends
// WATCHDOG=1 every half interval (see Watchdog and WatchdogCheck). When ctx ends,
// or serve returns on its own, Run sends STOPPING=1 (with
// STATUS=draining) and calls shutdown exactly once with a context that
// ends at DrainTimeout; shutdown must stop accepting, finish or cut off
// the work in flight, and make serve return. Then the OnShutdown hooks
// run, last registered first, also after a failure.
//
// Run returns nil after a clean stop, else every error of serve, shutdown
// and the hooks, joined. A drain cut off by its deadline wraps
// context.DeadlineExceeded.
func Run(ctx context.Context, serve func(ready func()) error, shutdown func(context.Context) error, opts ...Option) error {
	o := newOptions(opts)
	served := make(chan error, 1)
	var once sync.Once
	pings, stopPings := context.WithCancel(ctx)
	defer stopPings()
	ready := func() {
		once.Do(func() {
			o.send("READY=1\nSTATUS=serving")
			if o.notify {
				go o.watchdog(pings)
			}
		})
	}
	go func() { served <- serve(ready) }()

	var serveErr error
	returned := false
	select {
	case serveErr = <-served:
		returned = true
	case <-ctx.Done():
	}
	stopPings() // a draining worker is no longer watched
	o.send("STOPPING=1\nSTATUS=draining")
	o.log.Debug("draining", "drain_timeout", o.drainTimeout)
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.drainTimeout)
	defer cancel()
	drainErr := shutdown(dctx)
	if drainErr != nil {
		drainErr = fmt.Errorf("drain: %w", drainErr)
	}
	if !returned {
		serveErr = waitServed(dctx, served)
	}
	hookErr := o.runHooks(context.WithoutCancel(ctx))
	return errors.Join(serveErr, drainErr, hookErr)
}

// waitServed waits for serve to return after shutdown, until ctx ends.
func waitServed(ctx context.Context, served <-chan error) error {
	select {
	case err := <-served:
		return err
	default:
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
		return fmt.Errorf("serve did not return after shutdown: %w", ctx.Err())
	}
}

// runHooks runs the hooks in reverse order of registration.
func (o *options) runHooks(ctx context.Context) error {
	if len(o.hooks) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, o.hookTimeout)
	defer cancel()
	var errs []error
	for i := len(o.hooks) - 1; i >= 0; i-- {
		start := time.Now()
		if err := o.hooks[i](ctx); err != nil {
			o.log.Warn("shutdown hook failed", "hook", i, "took", time.Since(start), "err", err)
			errs = append(errs, fmt.Errorf("shutdown hook %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// watchdog pings the supervisor's watchdog, if it has one, until ctx ends.
func (o *options) watchdog(ctx context.Context) {
	if err := Watchdog(ctx, o.check); err != nil {
		o.log.Warn("watchdog: not pinging", "err", err)
	}
}

// send sends a notify datagram unless WithoutNotify; a failure is logged,
// not returned: the server works on, and the supervisor, not hearing from
// it, acts on its own timeout.
func (o *options) send(state string) {
	if !o.notify {
		return
	}
	if err := Notify(state); err != nil {
		o.log.Warn("notify failed", "err", err)
	}
}
