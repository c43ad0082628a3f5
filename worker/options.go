package worker

import (
	"context"
	"io"
	"log/slog"
	"time"
)

// Defaults of a shutdown. Together they stay under the 30 s that baton
// (--stop-timeout) and systemd (TimeoutStopSec) wait before SIGKILL.
const (
	// DefaultDrainTimeout bounds the drain: requests still running then
	// are cut off.
	DefaultDrainTimeout = 20 * time.Second
	// DefaultIdleLinger is how long a keep-alive connection that is idle
	// during the drain stays open, counted from when it became idle or
	// from the start of the drain, whichever is later. A client that was
	// about to reuse it sends its request within that time; the request
	// is answered with "Connection: close" instead of hitting a closed
	// socket.
	DefaultIdleLinger = 500 * time.Millisecond
	// DefaultHookTimeout bounds all shutdown hooks together.
	DefaultHookTimeout = 5 * time.Second
)

// Option configures Serve and Run.
type Option func(*options)

type options struct {
	drainTimeout time.Duration
	idleLinger   time.Duration
	hookTimeout  time.Duration
	hooks        []func(context.Context) error
	notify       bool
	check        func(context.Context) error
	log          *slog.Logger
}

func newOptions(opts []Option) options {
	o := options{
		drainTimeout: DefaultDrainTimeout,
		idleLinger:   DefaultIdleLinger,
		hookTimeout:  DefaultHookTimeout,
		notify:       true,
		log:          slog.Default(),
	}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// DrainTimeout bounds the drain. Default DefaultDrainTimeout.
func DrainTimeout(d time.Duration) Option { return func(o *options) { o.drainTimeout = d } }

// IdleLinger sets how long idle connections stay open during a drain.
// Default DefaultIdleLinger.
func IdleLinger(d time.Duration) Option { return func(o *options) { o.idleLinger = d } }

// HookTimeout bounds the shutdown hooks, all together; it starts when the
// drain ends. Default DefaultHookTimeout.
func HookTimeout(d time.Duration) Option { return func(o *options) { o.hookTimeout = d } }

// OnShutdown registers a hook that runs once the server has stopped and
// drained. Hooks run one at a time in reverse order of registration, so
// what was opened first (the database) is closed last; every hook runs
// even when an earlier one fails. Their context ends at HookTimeout. An
// error names its hook by registration index, from 0: "shutdown hook 1: ...".
func OnShutdown(hook func(context.Context) error) Option {
	return func(o *options) { o.hooks = append(o.hooks, hook) }
}

// WithoutNotify stops Serve and Run from sending READY=1 and
// STOPPING=1 themselves, for a program that reports on its own.
func WithoutNotify() Option { return func(o *options) { o.notify = false } }

// WatchdogCheck sets the check that gates each WATCHDOG=1 that Serve and
// Run send while the server runs, when the supervisor asked for them
// (WATCHDOG_USEC: baton's --watchdog, systemd's WatchdogSec=): see
// Watchdog. Without it every ping is sent, which proves that the process
// runs (it is not stopped, nor stuck with every thread), not that its
// handlers answer.
func WatchdogCheck(check func(context.Context) error) Option {
	return func(o *options) { o.check = check }
}

// Logger sets where Serve and Run log: one line when the drain ends
// (Info; Warn when cut off at the deadline), a failed notification or
// hook (Warn), and the start of the drain (Debug). Default
// slog.Default(); nil discards.
func Logger(l *slog.Logger) Option {
	if l == nil {
		l = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return func(o *options) { o.log = l }
}
