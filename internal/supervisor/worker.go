package supervisor

import (
	"time"

	"github.com/batonhq/baton/internal/wire"
)

// worker is one child process. Only the supervisor goroutine reads or
// writes its fields; the launcher's goroutines only post events.
type worker struct {
	id, slot, gen int
	spec          *Spec
	proc          Process
	pid           int
	dir           string // resolved working directory
	state         State
	started       time.Time
	readyAt       time.Time
	drainAt       time.Time
	exitAt        time.Time
	status        string
	timers        []*time.Timer
	stopAsked     bool   // the master asked it to exit: not a crash
	failure       string // why it failed to become ready, if it did
	killed        bool   // SIGKILLed after the stop timeout
	exit          string // how it exited, once exited
	tail          []string
}

// exitEvent reports a worker's process has exited and its output is read.
type exitEvent struct {
	w    *worker
	exit string // "exit status 1", "signal killed"
}

// notifyEvent carries one notify datagram from a worker.
type notifyEvent struct {
	w   *worker
	msg wire.Notify
}

// timerKind names a worker's deadline.
type timerKind int

const (
	readyDeadline timerKind = iota // --ready-timeout passed
	readyDelay                     // --ready delay:DUR passed
	stopDeadline                   // --stop-timeout passed
)

type timerEvent struct {
	w    *worker
	kind timerKind
}

// spawn starts a worker process for slot running spec.
func (s *Supervisor) spawn(slot int, spec *Spec) (*worker, error) {
	s.nextID++
	w := &worker{id: s.nextID, slot: slot, gen: spec.Generation, spec: spec}
	p, err := s.opts.Launcher.Launch(Launch{ID: w.id, Slot: slot, Generation: w.gen, Spec: spec},
		func(n wire.Notify) { s.post(notifyEvent{w: w, msg: n}) },
		func(exit string) { s.post(exitEvent{w: w, exit: exit}) })
	if err != nil {
		return nil, err
	}
	w.proc, w.pid, w.dir, w.started = p, p.PID(), p.Dir(), s.now()
	s.workers[w.id] = w
	s.armStart(w)
	return w, nil
}

// armStart starts the readiness clocks of a new worker.
func (s *Supervisor) armStart(w *worker) {
	w.timers = append(w.timers, s.after(w.spec.ReadyTimeout, timerEvent{w: w, kind: readyDeadline}))
	if w.spec.Ready.Kind == "delay" {
		w.timers = append(w.timers, s.after(w.spec.Ready.Delay, timerEvent{w: w, kind: readyDelay}))
	}
}

func (s *Supervisor) stopTimers(w *worker) {
	for _, t := range w.timers {
		t.Stop()
	}
	w.timers = nil
}
