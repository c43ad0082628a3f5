package supervisor

import "fmt"

// State is where a worker is in its lifecycle:
//
//	starting → ready → draining → exited
//	starting → draining            (stopped before it was ready)
//	starting, ready → exited       (it exited on its own: a crash)
type State int

// Worker states.
const (
	// Starting: the process runs but has not said it is ready.
	Starting State = iota
	// Ready: it serves; it counts towards capacity.
	Ready
	// Draining: it was sent the stop signal and is finishing its work.
	Draining
	// Exited: the process is gone; a terminal state.
	Exited
)

func (s State) String() string {
	switch s {
	case Starting:
		return "starting"
	case Ready:
		return "ready"
	case Draining:
		return "draining"
	case Exited:
		return "exited"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// legal lists every allowed move.
var legal = map[State][]State{
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

// transition moves w to state to, or reports an illegal move. It is the
// only place a worker's state changes.
func (s *Supervisor) transition(w *worker, to State) error {
	if !canMove(w.state, to) {
		return fmt.Errorf("worker %d (slot %d pid %d): illegal move %s → %s", w.id, w.slot, w.pid, w.state, to)
	}
	from := w.state
	w.state = to
	now := s.now()
	switch to {
	case Ready:
		w.readyAt = now
	case Draining:
		w.drainAt = now
	case Exited:
		w.exitAt = now
	}
	s.log.Debug("worker state", "slot", w.slot, "pid", w.pid, "gen", w.gen, "from", from.String(), "to", to.String())
	return nil
}
