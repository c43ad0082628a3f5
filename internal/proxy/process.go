package proxy

import (
	"context"
	"sync"
	"syscall"
	"time"

	"github.com/batonhq/baton/internal/proc"
	"github.com/batonhq/baton/internal/wire"
)

// Where a proxied worker is, as far as the rotation goes.
type rotation int

const (
	outside rotation = iota // started, not ready yet
	inside                  // ready: picks may return it
	benched                 // hung (its watchdog fired): out of rotation, its drain to come
	leaving                 // draining: out of rotation, its stop signal pending or sent
	gone                    // exited
)

// state is guarded by process.mu.
type state struct {
	mu  sync.Mutex
	rot rotation
}

func newProcess(l *Launcher, b *Backend, spec proc.Launch) *process {
	ctx, cancel := context.WithCancel(context.Background())
	return &process{l: l, b: b, spec: spec, ctx: ctx, cancel: cancel}
}

// move changes the rotation state from one of from to to, and reports
// whether it did.
func (p *process) move(to rotation, from ...rotation) bool {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	for _, f := range from {
		if p.st.rot == f {
			p.st.rot = to
			return true
		}
	}
	return false
}

// MarkedReady puts the worker in rotation, unless it already leaves.
func (p *process) MarkedReady() {
	if p.move(inside, outside) {
		p.l.Pool.Add(p.b)
		if p.l.kernel != nil {
			go p.steer()
		}
		if p.spec.Watchdog > 0 && !p.spec.Notify {
			go p.liveness()
		}
	}
}

// steer puts the worker in the kernel's rotation too (finding its
// listener reads /proc: not under the supervisor's call). A drain that
// began meanwhile takes it out again.
func (p *process) steer() {
	p.l.kernel.add(p.b, p.PID())
	p.st.mu.Lock()
	in := p.st.rot == inside
	p.st.mu.Unlock()
	if !in {
		p.l.kernel.remove(p.b)
	}
}

// leave takes the worker out of both rotations.
func (p *process) leave() {
	p.l.Pool.Remove(p.b)
	if p.l.kernel != nil {
		p.l.kernel.remove(p.b)
	}
}

// LeaveRotation takes a hung worker out of the rotation at once; its
// requests in flight stay, and its drain comes with the stop signal.
func (p *process) LeaveRotation() {
	if p.move(benched, inside) {
		p.leave()
	}
}

// LimitRequests calls reached once the worker has taken n requests.
func (p *process) LimitRequests(n uint64, reached func()) { p.b.limitServed(n, reached) }

// Signal is the supervisor asking the worker to stop: the worker leaves
// the rotation at once, and the signal is sent once its connections or
// requests in flight ended (at most --drain-timeout later) and, for
// --proxy http, its idle upstream connections are closed, so that even
// a program that dies at once on the signal loses nothing.
func (p *process) Signal(sig syscall.Signal) error {
	if !p.move(leaving, outside, inside, benched) {
		return p.Process.Signal(sig) // a second signal, or after the exit
	}
	p.leave()
	p.cancel()
	go p.drainThenSignal(sig)
	return nil
}

func (p *process) drainThenSignal(sig syscall.Signal) {
	start := time.Now()
	deadline := start.Add(p.spec.DrainTimeout)
	done := p.b.waitIdle(p.spec.DrainTimeout)
	if p.l.kernel != nil {
		done = p.l.kernel.waitHeld(p.b, p.PID(), deadline) && done
	}
	p.b.closeIdle()
	if left := p.open(); !done {
		p.l.Log.Warn("proxy: --drain-timeout passed with connections open: stop signal sent anyway",
			"slot", p.b.Slot, "pid", p.PID(), "open", left, "drain_timeout", p.spec.DrainTimeout.String())
	} else {
		p.l.Log.Debug("proxy: worker drained", "slot", p.b.Slot, "pid", p.PID(), "took", time.Since(start).String())
	}
	if err := p.Process.Signal(sig); err != nil {
		p.l.Log.Warn("proxy: stop signal", "slot", p.b.Slot, "err", err)
	}
}

// KillGroup takes the worker out of rotation before it is killed.
func (p *process) KillGroup() {
	p.leave()
	p.Process.KillGroup()
}

// exited forgets the worker: out of status and rotation, its port free.
func (p *process) exited() {
	p.st.mu.Lock()
	p.st.rot = gone
	p.st.mu.Unlock()
	p.cancel()
	p.l.Pool.Forget(p.b)
	if p.l.kernel != nil {
		p.l.kernel.remove(p.b)
	}
	p.l.ports.give(p.b.Port)
	p.b.stop()
}

// probe runs the readiness probe and reports a pass as READY=1.
func (p *process) probe(onNotify func(wire.Notify)) {
	passed := probe(p.ctx, probeOptions{
		Ready: p.spec.Ready, Addr: p.b.addr, Header: localHeader(p.l.ProxyProtocol),
		Failed: func(err error) {
			text := err.Error()
			p.probeFailure.Store(&text)
		},
	})
	if passed {
		onNotify(wire.Notify{Ready: true})
		return
	}
	if last := p.probeFailure.Load(); last != nil {
		// Stopped before it passed (not ready in time, or a stop): say
		// why, or "not ready in time" is all the operator sees.
		p.l.Log.Warn("readiness probe never passed", "slot", p.b.Slot, "pid", p.PID(), "ready", p.spec.Ready.String(), "last_failure", *last)
	}
}

// NotReadyBecause is the last failure of the worker's readiness probe, ""
// before the first or with none running.
func (p *process) NotReadyBecause() string {
	if f := p.probeFailure.Load(); f != nil {
		return "last " + p.spec.Ready.String() + " probe: " + *f
	}
	return ""
}

// ProxyStatus is the worker's port and load.
func (p *process) ProxyStatus() proc.ProxyStatus {
	p.st.mu.Lock()
	in := p.st.rot == inside
	p.st.mu.Unlock()
	return proc.ProxyStatus{Port: p.b.Port, Open: p.open(), Served: p.b.Served(), InRotation: in}
}

// open is what the worker has open: the connections or requests the
// proxy gave it, and the connections the kernel steered to it.
func (p *process) open() int64 {
	n := p.b.Open()
	if p.l.kernel != nil {
		n += int64(p.l.kernel.held(p.b, p.PID()))
	}
	return n
}
