package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/proc"
	"github.com/batonhq/baton/internal/wire"
)

// Launcher decorates a proc.Launcher for proxy mode: each worker gets a
// free loopback port in its environment ($PORT, or Launch.PortEnv) and in
// its arguments ({port}); --ready tcp and http:PATH are probed here and
// reported to the supervisor as a READY=1; the worker joins the pool
// when the supervisor counts it ready, and its stop signal comes only
// after it left the rotation and drained.
type Launcher struct {
	Inner proc.Launcher
	Pool  *Pool
	Kind  config.ProxyKind
	// ProxyProtocol is the PROXY protocol version the workers expect
	// (--proxy-protocol; 0 for none): baton's own probes of them send a
	// header too.
	ProxyProtocol int
	Log           *slog.Logger
	ports         *ports
	// kernel is the kernel's rotation (--proxy tcp), nil when off.
	kernel *kernelRotation
}

var _ proc.Launcher = (*Launcher)(nil)

// NewLauncher wraps inner.
func NewLauncher(inner proc.Launcher, pool *Pool, kind config.ProxyKind, logger *slog.Logger) *Launcher {
	return &Launcher{Inner: inner, Pool: pool, Kind: kind, Log: logger, ports: newPorts()}
}

// Launch starts the worker on a private port of its own.
func (l *Launcher) Launch(spec proc.Launch, onNotify func(wire.Notify), onExit func(proc.Exit)) (proc.Process, error) {
	port, err := l.ports.take()
	if err != nil {
		return nil, fmt.Errorf("spawn slot %d: %w", spec.Slot, err)
	}
	name := spec.PortEnv
	if name == "" {
		name = config.DefaultPortEnv
	}
	spec.Env = append(append([]string{}, spec.Env...), fmt.Sprintf("%s=%d", name, port))
	spec.Command = withPort(spec.Command, port)
	b := NewBackend(spec.ID, spec.Slot, port)
	if l.Kind == config.ProxyHTTP {
		b = NewHTTPBackend(spec.ID, spec.Slot, port)
	}
	p := newProcess(l, b, spec)
	p.onNotify = onNotify
	inner, err := l.Inner.Launch(spec, onNotify, func(e proc.Exit) { p.exited(); onExit(e) })
	if err != nil {
		l.ports.give(port)
		return nil, err
	}
	p.Process = inner
	l.Pool.Register(b)
	if spec.Ready.Kind == config.ReadyTCP || spec.Ready.Kind == config.ReadyHTTP {
		go p.probe(onNotify)
	}
	return p, nil
}

// process is a proxied worker: the inner process plus its backend.
type process struct {
	proc.Process
	l      *Launcher
	b      *Backend
	spec   proc.Launch
	ctx    context.Context // ends when the worker drains or exits
	cancel context.CancelFunc
	st     state
	// onNotify reports to the supervisor: a passed readiness probe as
	// READY=1, a passed liveness probe as WATCHDOG=1.
	onNotify func(wire.Notify)
	// probeFailure is the readiness probe's last failure, nil before one.
	probeFailure atomic.Pointer[string]
}

var (
	_ proc.ReadyObserver  = (*process)(nil)
	_ proc.ProxyReporter  = (*process)(nil)
	_ proc.RotationLeaver = (*process)(nil)
	_ proc.RequestLimiter = (*process)(nil)
)
