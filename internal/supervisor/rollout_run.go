package supervisor

import (
	"fmt"

	"github.com/batonhq/baton/internal/config"
)

// emit publishes one step of the running rollout, with the rollout's
// status after it. It is the one place rollout steps become events.
func (s *Supervisor) emit(step Step, slot, pid int, format string, args ...any) {
	r := s.rollout
	st := r.status(s.now())
	s.publish(Event{Kind: KindRollout, Step: step, Slot: slot, PID: pid, Generation: r.spec.Generation,
		Rollout: &st, Text: fmt.Sprintf(format, args...)})
}

// beginRollout starts r: from here on, step drives it as events arrive.
func (s *Supervisor) beginRollout(r *rollout) {
	s.suspendRecycles()
	s.rollout = r
	s.emit(StepStarted, -1, 0, "rollout %d: replacing %d workers with generation %d (%s, %d at a time)",
		r.id, r.total, r.spec.Generation, r.strategy, r.parallel)
	for _, n := range r.notes {
		s.emit(StepNote, -1, 0, "%s", n)
	}
	s.step()
}

// step starts as many slots as --parallel allows and finishes the rollout
// when nothing is left in flight.
func (s *Supervisor) step() {
	r := s.rollout
	if r == nil {
		return
	}
	for r.failure == "" && len(r.starting)+len(r.replacing) < r.parallel && len(r.pending) > 0 {
		idx := r.pending[0]
		r.pending = r.pending[1:]
		sl := s.slots[idx]
		if r.strategy == config.StrategyReplace && sl.current != nil {
			old := sl.current
			r.replacing[idx] = old
			s.emit(StepDraining, idx, old.pid, "slot %d: draining old pid %d first (replace)", idx, old.pid)
			s.drain(old, CauseRollout)
			continue
		}
		s.startNew(sl)
	}
	if len(r.starting) > 0 || len(r.replacing) > 0 {
		return
	}
	if r.failure != "" || (len(r.pending) == 0 && len(r.draining) == 0) {
		s.finishRollout()
	}
}

// startNew spawns the new generation's worker for sl.
func (s *Supervisor) startNew(sl *slot) {
	r := s.rollout
	sl.waiting = false // its new worker comes first
	w, err := s.spawn(sl.index, r.spec, CauseRollout)
	if err != nil {
		s.failRollout(sl.index, 0, fmt.Sprintf("slot %d: start new worker: %v", sl.index, err), nil)
		return
	}
	r.starting[sl.index] = w
	s.emit(StepSpawned, sl.index, w.pid, "slot %d: started new pid %d (generation %d)", sl.index, w.pid, w.gen)
}

// rolloutWorkerReady promotes a new worker and drains the one it replaces.
func (s *Supervisor) rolloutWorkerReady(w *worker) {
	r := s.rollout
	if r == nil || r.starting[w.slot] != w {
		return
	}
	delete(r.starting, w.slot)
	sl := s.slots[w.slot]
	old := sl.current
	sl.current, sl.spec, sl.crashes = w, r.spec, 0
	s.cancelRespawn(sl)
	r.replaced++
	ms := w.readyAt.Sub(w.started).Milliseconds()
	s.emit(StepReady, w.slot, w.pid, "slot %d: pid %d ready after %d ms", w.slot, w.pid, ms)
	if old != nil && old != w {
		r.draining[old.id] = old
		s.drain(old, CauseRollout)
	}
	s.step()
}

// rolloutWorkerExited accounts for an exit that belongs to the rollout and
// reports whether it did.
func (s *Supervisor) rolloutWorkerExited(w *worker) bool {
	r := s.rollout
	if r == nil {
		return false
	}
	switch {
	case r.starting[w.slot] == w:
		s.newWorkerExited(w)
	case r.replacing[w.slot] == w:
		s.replacedWorkerExited(w)
	case r.draining[w.id] == w:
		delete(r.draining, w.id)
		s.oldExited(w)
	default:
		return false
	}
	s.step()
	return true
}

// newWorkerExited: a new worker exited before it was ready; the rollout fails.
func (s *Supervisor) newWorkerExited(w *worker) {
	r := s.rollout
	delete(r.starting, w.slot)
	if r.failure == "" {
		reason := "exited before it was ready"
		if w.stop == CauseReadyTimeout {
			reason = w.readyTimeoutText()
		}
		s.failRollout(w.slot, w.pid, fmt.Sprintf("slot %d: new worker pid %d %s (%s)", w.slot, w.pid, reason, w.exit), w.tail)
	}
	if sl := s.slots[w.slot]; sl.current == nil && !s.phase.Stopping() {
		s.start(sl, CauseStarted) // replace strategy: the slot's old generation comes back
	}
}

// replacedWorkerExited: replace strategy, the old worker drained; its new one starts.
func (s *Supervisor) replacedWorkerExited(w *worker) {
	r := s.rollout
	delete(r.replacing, w.slot)
	sl := s.slots[w.slot]
	sl.current = nil
	s.oldExited(w)
	switch {
	case r.failure == "":
		s.startNew(sl)
	case !s.phase.Stopping():
		s.start(sl, CauseStarted) // aborted meanwhile: the old generation comes back
	}
}

// oldExited reports an old worker's drain.
func (s *Supervisor) oldExited(w *worker) {
	r := s.rollout
	if w.kill == CauseKilled {
		r.killed++
		s.emit(StepKilled, w.slot, w.pid, "slot %d: old pid %d did not drain within --stop-timeout %s: killed", w.slot, w.pid, w.spec.StopTimeout)
		return
	}
	s.emit(StepDrained, w.slot, w.pid, "slot %d: old pid %d drained in %d ms", w.slot, w.pid, w.exitAt.Sub(w.drainAt).Milliseconds())
}

// failRollout aborts at once: new workers still starting are stopped, the
// old ones keep serving, slots not reached are left alone.
func (s *Supervisor) failRollout(slot, pid int, reason string, output []string) {
	r := s.rollout
	r.failure, r.output = reason, output
	s.emit(StepFailed, slot, pid, "%s", reason)
	for _, w := range r.starting {
		s.drain(w, CauseAborted)
	}
	r.pending = nil
}

// abortRollout ends the rollout now (the master is stopping).
func (s *Supervisor) abortRollout(reason string) {
	r := s.rollout
	if r.failure == "" {
		s.failRollout(-1, 0, reason, nil)
	}
	r.starting, r.replacing = map[int]*worker{}, map[int]*worker{}
	s.finishRollout()
}

// finishRollout records the outcome and answers the requester.
func (s *Supervisor) finishRollout() {
	r := s.rollout
	now := s.now()
	st := r.status(now)
	st.Finished, st.State = now, RolloutDone
	if r.failure != "" {
		st.State = RolloutFailed
	} else {
		s.spec, s.cfg = r.spec, r.cfg
	}
	s.publish(Event{Kind: KindRollout, Step: StepDone, Slot: -1, Generation: r.spec.Generation, Rollout: &st, Text: st.Summary()})
	s.rollout = nil
	r.done <- st
	s.afterRollout()
	s.pumpRecycles()
	s.armMemoryTick() // the new generation may have a --max-memory
}
