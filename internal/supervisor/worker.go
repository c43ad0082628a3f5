package supervisor

import (
	"time"

	"github.com/batonhq/baton/internal/clock"
	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/proc"
	"github.com/batonhq/baton/internal/wire"
)

// worker is one child process. Only the supervisor goroutine reads or
// writes its fields; the launcher's goroutines only post events.
type worker struct {
	id, slot, gen int
	spec          *Spec
	proc          proc.Process
	pid           int
	dir           string // resolved working directory
	state         State
	started       time.Time
	readyAt       time.Time
	drainAt       time.Time
	exitAt        time.Time
	status        string
	timers        []clock.Timer
	stop          Cause     // why it was asked to stop; 0 if it was not
	kill          Cause     // CauseKilled or CauseForced once SIGKILLed; else 0
	exit          proc.Exit // how it exited, once exited
	tail          []string  // its last output, once exited
	// The watchdog and recycling (limits.go, recycle.go).
	watchdog time.Duration // its interval: --watchdog, or its own WATCHDOG_USEC=
	wd       clock.Timer   // the watchdog's deadline while ready
	wdSeq    int           // invalidates a deadline re-armed since
	recycle  Cause         // why it is being recycled; 0 if it is not
	// notReady is why it was not ready when --ready-timeout passed, when
	// its process could say (proc.NotReadyExplainer); else "".
	notReady string
}

// exitEvent reports a worker's process has exited and its output is read.
type exitEvent struct {
	w    *worker
	exit proc.Exit
}

// notifyEvent carries one notify datagram from a worker.
type notifyEvent struct {
	w   *worker
	msg wire.Notify
}

// timerKind names a worker's deadline.
type timerKind int

const (
	readyDeadline    timerKind = iota + 1 // --ready-timeout passed
	readyDelay                            // --ready delay:DUR passed
	stopDeadline                          // --stop-timeout passed
	watchdogDeadline                      // no WATCHDOG=1 within its interval
)

type timerEvent struct {
	w    *worker
	kind timerKind
	seq  int // watchdogDeadline: the worker's wdSeq when armed
}

// spawn starts a worker process for slot running spec; cause says why
// (first start or respawn, rollout, scale).
func (s *Supervisor) spawn(slot int, spec *Spec, cause Cause) (*worker, error) {
	s.nextID++
	w := &worker{id: s.nextID, slot: slot, gen: spec.Generation, spec: spec, watchdog: spec.Limits.Watchdog}
	p, err := s.opts.Launcher.Launch(spec.launch(w.id, slot),
		func(n wire.Notify) { s.post(notifyEvent{w: w, msg: n}) },
		func(exit proc.Exit) { s.post(exitEvent{w: w, exit: exit}) })
	if err != nil {
		return nil, err
	}
	w.proc, w.pid, w.dir = p, p.PID(), p.Dir()
	s.workers[w.id] = w
	if err := s.transition(w, Starting, cause); err != nil {
		s.note(levelError, "start: %v", err)
	}
	s.armStart(w)
	return w, nil
}

// armStart starts the readiness clocks of a new worker.
func (s *Supervisor) armStart(w *worker) {
	w.timers = append(w.timers, s.after(w.spec.ReadyTimeout, timerEvent{w: w, kind: readyDeadline}))
	if w.spec.Ready.Kind == config.ReadyDelay {
		w.timers = append(w.timers, s.after(w.spec.Ready.Delay, timerEvent{w: w, kind: readyDelay}))
	}
}

func (s *Supervisor) stopTimers(w *worker) {
	for _, t := range w.timers {
		t.Stop()
	}
	w.timers = nil
	s.disarmWatchdog(w)
}

// drain asks w to exit for cause: the stop signal, then SIGKILL to its
// group once its stop timeout passes.
func (s *Supervisor) drain(w *worker, cause Cause) {
	if w.state == Draining || w.state == Exited {
		return
	}
	if err := s.transition(w, Draining, cause); err != nil {
		s.note(levelError, "drain: %v", err)
		return
	}
	s.stopTimers(w)
	// A stopped worker (SIGSTOP, or hung in one) could act on neither its
	// requests in flight nor the stop signal: like systemd, wake it first.
	w.proc.Continue()
	if err := w.proc.Signal(w.spec.StopSignal); err != nil {
		s.note(levelWarn, "slot %d: signal worker pid %d: %v", w.slot, w.pid, err)
	}
	w.timers = append(w.timers, s.after(w.spec.StopTimeout, timerEvent{w: w, kind: stopDeadline}))
}

// killNow SIGKILLs w's process group for cause (CauseKilled, CauseForced).
func (s *Supervisor) killNow(w *worker, cause Cause) {
	if w.state == Exited || w.kill != 0 {
		return
	}
	if w.stop == 0 {
		w.stop = CauseShutdown
	}
	w.kill = cause
	w.proc.KillGroup()
}

func (s *Supervisor) onTimer(e timerEvent) {
	w := e.w
	switch {
	case e.kind == readyDelay && w.state == Starting:
		s.markReady(w, CauseDelay)
	case e.kind == readyDeadline && w.state == Starting:
		if x, ok := w.proc.(proc.NotReadyExplainer); ok {
			w.notReady = x.NotReadyBecause()
		}
		s.drain(w, CauseReadyTimeout)
	case e.kind == stopDeadline && w.state == Draining:
		s.killNow(w, CauseKilled)
	case e.kind == watchdogDeadline && w.state == Ready && e.seq == w.wdSeq:
		s.watchdogMissed(w)
	}
}

func (s *Supervisor) onNotify(e notifyEvent) {
	w := e.w
	if w.state == Exited {
		return
	}
	if e.msg.HasStatus {
		w.status = e.msg.Status
	}
	if e.msg.Ready && w.state == Starting {
		s.markReady(w, readyCause(w.spec))
	}
	s.onWatchdogNotify(w, e.msg)
}

// readyCause names what a READY=1 from the launcher meant: the worker's
// own datagram, or (with --ready output:REGEX, which gives no notify
// socket) a line of its output that matched.
func readyCause(sp *Spec) Cause {
	if sp.Ready.Kind == config.ReadyOutput {
		return CauseOutput
	}
	return CauseNotified
}

// markReady records that w serves.
func (s *Supervisor) markReady(w *worker, cause Cause) {
	if err := s.transition(w, Ready, cause); err != nil {
		s.note(levelError, "ready: %v", err)
		return
	}
	s.stopTimers(w)
	if o, ok := w.proc.(proc.ReadyObserver); ok {
		o.MarkedReady()
	}
	s.armLimits(w)
	s.recycleWorkerReady(w)
	s.rolloutWorkerReady(w)
	s.checkAllReady()
}
