package supervisor

import (
	"fmt"
	"time"
)

// State is where a worker is in its lifecycle:
//
//	starting → ready → draining → exited
//	starting → draining            (stopped before it was ready)
//	starting, ready → exited       (it exited on its own: a crash)
type State int

// Worker states.
const (
	_ State = iota
	// Starting: the process runs but has not said it is ready.
	Starting
	// Ready: it serves; it counts towards capacity.
	Ready
	// Draining: it was sent the stop signal and is finishing its work.
	Draining
	// Exited: the process is gone; a terminal state.
	Exited
)

var stateNames = []string{"", "starting", "ready", "draining", "exited"}

func (s State) String() string { return enumText(stateNames, "State", int(s)) }

// MarshalText renders the state's name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a state's name.
func (s *State) UnmarshalText(b []byte) error {
	v, err := enumParse(stateNames, "state", b)
	*s = State(v)
	return err
}

// legal lists every allowed move; the zero State is "not started yet".
var legal = map[State][]State{
	0:        {Starting},
	Starting: {Ready, Draining, Exited},
	Ready:    {Draining, Exited},
	Draining: {Exited},
}

// canMove reports whether from → to is a legal transition.
func canMove(from, to State) bool {
	for _, s := range legal[from] {
		if s == to {
			return true
		}
	}
	return false
}

// transition moves w to state to for cause, or reports an illegal move. It
// is the only place a worker's state changes, and it emits the worker's
// event.
func (s *Supervisor) transition(w *worker, to State, cause Cause) error {
	if !canMove(w.state, to) {
		return fmt.Errorf("worker %d (slot %d pid %d): illegal move %s → %s", w.id, w.slot, w.pid, w.state, to)
	}
	from := w.state
	w.state = to
	now := s.now()
	ev := Event{Kind: KindWorker, Slot: w.slot, PID: w.pid, Generation: w.gen, From: from, To: to, Cause: cause}
	switch to {
	case Starting:
		w.started = now
	case Ready:
		w.readyAt = now
		ev.Took = now.Sub(w.started)
	case Draining:
		w.drainAt = now
		w.stop = cause
	case Exited:
		w.exitAt = now
		exit := w.exit
		ev.Exit, ev.Output, ev.Stop, ev.Text = &exit, w.tail, w.stop, w.exitText(from, cause)
		ev.Took = now.Sub(w.started)
		if from == Draining {
			ev.Took = now.Sub(w.drainAt)
		}
	}
	s.publish(ev)
	return nil
}

// exitCause is why w, which just exited, did: killed, drained or crashed.
func (w *worker) exitCause() Cause {
	switch {
	case w.kill != 0:
		return w.kill
	case w.stop != 0:
		return CauseDrained
	}
	return CauseCrashed
}

// exitText says in words why w, which was in state from, exited.
func (w *worker) exitText(from State, cause Cause) string {
	switch {
	case w.stop == CauseReadyTimeout:
		return w.readyTimeoutText()
	case cause == CauseKilled:
		return "did not exit within --stop-timeout " + w.spec.StopTimeout.String()
	case w.stop == CauseWatchdog:
		return "stopped as hung by its watchdog"
	case cause == CauseCrashed && from == Starting:
		return "exited before it was ready"
	case cause == CauseCrashed:
		return "exited on its own"
	}
	return ""
}

// failed reports whether w ended as a failure: a crash, never ready in
// time, or stopped as hung by its watchdog.
func (w *worker) failed() bool {
	return w.stop == 0 || w.stop == CauseReadyTimeout || w.stop == CauseWatchdog
}

// uptime is how long w ran.
func (w *worker) uptime() time.Duration { return w.exitAt.Sub(w.started) }

// readyTimeoutText says that w was not ready within --ready-timeout, and
// why when its process could tell.
func (w *worker) readyTimeoutText() string {
	text := "not ready within --ready-timeout " + w.spec.ReadyTimeout.String()
	if w.notReady != "" {
		text += ": " + w.notReady
	}
	return text
}
