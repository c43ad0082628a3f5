package worker

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Defaults of a drain.
const (
	// DefaultDrainTimeout bounds the whole drain; it is shorter than
	// baton's and systemd's default stop timeouts so that hooks still run.
	DefaultDrainTimeout = 25 * time.Second
	// DefaultIdleLinger is how long a connection that is idle when the
	// drain starts (or becomes idle during it) is kept open, so that a
	// request its client is sending right now is still read and answered
	// (with Connection: close) instead of hitting a closed socket.
	DefaultIdleLinger = 500 * time.Millisecond
)

// Option configures ServeHTTP and Run.
type Option func(*options)

type options struct {
	drainTimeout time.Duration
	idleLinger   time.Duration
	hooks        []func(context.Context) error
	notify       bool
}

func newOptions(opts []Option) options {
	o := options{drainTimeout: DefaultDrainTimeout, idleLinger: DefaultIdleLinger, notify: true}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// DrainTimeout bounds the drain: in-flight requests still running then are
// cut off. Default DefaultDrainTimeout.
func DrainTimeout(d time.Duration) Option { return func(o *options) { o.drainTimeout = d } }

// IdleLinger sets how long idle connections stay open during a drain.
// Default DefaultIdleLinger.
func IdleLinger(d time.Duration) Option { return func(o *options) { o.idleLinger = d } }

// OnShutdown registers a hook run after the server has drained. Hooks run
// in reverse order of registration (the database opened first closes
// last), each with the drain's remaining time as its deadline.
func OnShutdown(hook func(context.Context) error) Option {
	return func(o *options) { o.hooks = append(o.hooks, hook) }
}

// WithoutNotify stops ServeHTTP and Run from sending READY=1 and
// STOPPING=1 themselves.
func WithoutNotify() Option { return func(o *options) { o.notify = false } }

// SignalContext returns a context cancelled on SIGTERM or SIGINT: pass it
// to ServeHTTP or Run. stop releases the signals.
func SignalContext(parent context.Context) (ctx context.Context, stop context.CancelFunc) {
	return signal.NotifyContext(parent, syscall.SIGTERM, os.Interrupt)
}
