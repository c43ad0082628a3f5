package supervisor

import (
	"fmt"
	"time"

	"github.com/batonhq/baton/internal/config"
)

// beginRollout starts r: from here on, step drives it as events arrive.
func (s *Supervisor) beginRollout(r *rollout) {
	s.rollout = r
	s.log.Info("rollout started", "rollout", r.id, "trigger", r.trigger, "strategy", r.strategy,
		"workers", r.total, "gen", r.spec.Generation, "parallel", r.parallel)
	s.emit(Progress{Step: "started", Slot: -1, Text: fmt.Sprintf("rollout %d: replacing %d workers with generation %d (%s, %d at a time)",
		r.id, r.total, r.spec.Generation, r.strategy, r.parallel)})
	if r.cfg.Workers != len(s.slots) {
		s.emit(Progress{Step: "note", Slot: -1, Text: "the pool size is kept; use `baton scale` to change it"})
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
			s.emit(Progress{Step: "draining", Slot: idx, PID: old.pid, Text: fmt.Sprintf("slot %d: draining old pid %d first (replace)", idx, old.pid)})
			s.drain(old)
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
	w, err := s.spawn(sl.index, r.spec)
	if err != nil {
		s.failRollout(sl.index, 0, fmt.Sprintf("slot %d: start new worker: %v", sl.index, err), nil)
		return
	}
	r.starting[sl.index] = w
	s.emit(Progress{Step: "spawned", Slot: sl.index, PID: w.pid, Text: fmt.Sprintf("slot %d: started new pid %d (generation %d)", sl.index, w.pid, w.gen)})
}

// rolloutWorkerReady promotes a new worker and drains the one it replaces.
func (s *Supervisor) rolloutWorkerReady(w *worker) {
	r := s.rollout
	if r == nil || r.starting[w.slot] != w {
		return
	}
	delete(r.starting, w.slot)
	ms := w.readyAt.Sub(w.started).Milliseconds()
	s.emit(Progress{Step: "ready", Slot: w.slot, PID: w.pid, Millis: ms, Text: fmt.Sprintf("slot %d: pid %d ready after %d ms", w.slot, w.pid, ms)})
	sl := s.slots[w.slot]
	old := sl.current
	sl.current, sl.spec, sl.crashes = w, r.spec, 0
	s.cancelRespawn(sl)
	r.replaced++
	if old != nil && old != w {
		r.draining[old.id] = old
		s.drain(old)
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
		delete(r.starting, w.slot)
		reason := w.failure
		if reason == "" {
			reason = "exited before it was ready"
		}
		if r.failure == "" {
			s.failRollout(w.slot, w.pid, fmt.Sprintf("slot %d: new worker pid %d %s (%s)", w.slot, w.pid, reason, w.exit), w.tail)
		}
		s.log.Warn("new worker failed", "rollout", r.id, "slot", w.slot, "pid", w.pid, "reason", reason, "exit", w.exit, "last_output", w.tail)
		if sl := s.slots[w.slot]; sl.current == nil && !s.stopping {
			s.start(sl) // replace strategy: the slot's old generation comes back
		}
	case r.replacing[w.slot] == w:
		delete(r.replacing, w.slot)
		sl := s.slots[w.slot]
		sl.current = nil
		s.oldExited(w)
		switch {
		case r.failure == "":
			s.startNew(sl)
		case !s.stopping:
			s.start(sl) // aborted meanwhile: the old generation comes back
		}
	case r.draining[w.id] == w:
		delete(r.draining, w.id)
		s.oldExited(w)
	default:
		return false
	}
	s.step()
	return true
}

// oldExited reports an old worker's drain.
func (s *Supervisor) oldExited(w *worker) {
	r := s.rollout
	ms := w.exitAt.Sub(w.drainAt).Milliseconds()
	p := Progress{Step: "drained", Slot: w.slot, PID: w.pid, Millis: ms, Text: fmt.Sprintf("slot %d: old pid %d drained in %d ms", w.slot, w.pid, ms)}
	if w.killed {
		r.killed++
		p.Step = "killed"
		p.Text = fmt.Sprintf("slot %d: old pid %d did not drain within --stop-timeout %s: killed", w.slot, w.pid, w.spec.StopTimeout)
	}
	s.emit(p)
	s.log.Info("worker exited", "slot", w.slot, "pid", w.pid, "gen", w.gen, "exit", w.exit,
		"drain", time.Duration(ms)*time.Millisecond, "killed", w.killed)
}

// failRollout aborts at once: new workers still starting are stopped, the
// old ones keep serving, slots not reached are left alone.
func (s *Supervisor) failRollout(slot, pid int, reason string, output []string) {
	r := s.rollout
	r.failure, r.output = reason, output
	s.emit(Progress{Step: "failed", Slot: slot, PID: pid, Text: reason})
	for _, w := range r.starting {
		if w.failure == "" {
			w.failure = "stopped: rollout aborted"
		}
		s.drain(w)
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
	st.Finished = now
	st.State = "done"
	if r.failure != "" {
		st.State = "failed"
		s.log.Error("rollout failed", "rollout", r.id, "reason", r.failure, "replaced", r.replaced, "total", r.total, "last_output", r.output)
	} else {
		s.spec, s.cfg = r.spec, r.cfg
		s.log.Info("rollout done", "rollout", r.id, "replaced", r.replaced, "seconds", st.Seconds, "killed", r.killed)
	}
	s.emit(Progress{Step: st.State, Slot: -1, Text: summary(st)})
	s.rollout, s.lastRollout = nil, &st
	if r.progress != nil {
		close(r.progress)
	}
	if r.reply != nil {
		r.reply <- st
	}
	s.afterRollout()
}

// summary is the last line of `baton reload`.
func summary(st RolloutStatus) string {
	if st.State == "failed" {
		return fmt.Sprintf("rollout %d failed after %d of %d workers replaced: %s", st.ID, st.Replaced, st.Total, st.Error)
	}
	return fmt.Sprintf("rollout %d done: %d workers replaced in %s, %d killed after --stop-timeout", st.ID, st.Replaced, Took(st.Seconds), st.Killed)
}

// Took renders a rollout's duration: milliseconds below a second, else
// tenths of a second ("38ms", "1.2s").
func Took(seconds float64) string {
	d := time.Duration(seconds * float64(time.Second))
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

// emit logs nothing itself: it feeds the requester's progress stream.
func (s *Supervisor) emit(p Progress) {
	r := s.rollout
	if r == nil || r.progress == nil {
		return
	}
	p.Rollout, p.Time = r.id, s.now()
	select {
	case r.progress <- p:
	default:
	}
}
