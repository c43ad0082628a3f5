package supervisor

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/batonhq/baton/internal/proc"
)

// Recycling replaces one ready worker by a fresh one of the same
// generation, surge first: the new worker starts in the slot, and only
// once it is ready is the old one drained. It is a one-slot rollout that
// nobody asked for: the watchdog, --max-memory, --max-requests and
// --max-lifetime request it.
//
// At most --parallel recycles run at once, queued in the order asked.
// None runs during a rollout, which replaces every worker anyway: a
// rollout that begins stops the recycles' new workers and puts their old
// workers back in the queue; when it ends, queued workers it did not
// replace (a failed rollout) are recycled then.

// RecycleRetry is how long a worker whose replacement failed to become
// ready keeps serving before its recycle is tried again.
const RecycleRetry = 10 * time.Second

// recycleEvent asks for w's recycle (a lifetime timer, the proxy's
// request count).
type recycleEvent struct {
	w     *worker
	cause Cause
}

// retryEvent tries a failed recycle again.
type retryEvent struct {
	w     *worker
	cause Cause
}

// recycleJob is a recycle in flight: new replaces old.
type recycleJob struct {
	old, new *worker
	cause    Cause
}

func (s *Supervisor) onRecycle(e recycleEvent) {
	w, l := e.w, e.w.spec.Limits
	why := fmt.Sprintf("was ready for its --max-lifetime %s (plus jitter)", l.MaxLifetime)
	if e.cause == CauseMaxRequests {
		why = fmt.Sprintf("served its --max-requests %d (plus jitter)", l.MaxRequests)
	}
	s.requestRecycle(w, e.cause, why)
}

// requestRecycle queues w's replacement for cause; why says what
// happened, for the log. A hung worker (CauseWatchdog) leaves the
// proxy's rotation at once and counts as a restart of its slot.
func (s *Supervisor) requestRecycle(w *worker, cause Cause, why string) {
	if w.state != Ready || w.recycle != 0 || s.phase.Stopping() {
		return
	}
	w.recycle = cause
	s.disarmWatchdog(w)
	level := slog.LevelInfo
	if cause == CauseWatchdog {
		level = levelWarn
		if lr, ok := w.proc.(proc.RotationLeaver); ok {
			lr.LeaveRotation()
		}
		if w.slot < len(s.slots) {
			s.slots[w.slot].restarts++
		}
	}
	s.publish(Event{Kind: KindNote, Slot: w.slot, PID: w.pid, Generation: w.gen, Cause: cause, Level: level,
		Text: fmt.Sprintf("slot %d: pid %d %s: replacing it (cause %s, surge)", w.slot, w.pid, why, cause)})
	s.recycleQueue = append(s.recycleQueue, w)
	s.pumpRecycles()
}

// pumpRecycles starts queued recycles while fewer than --parallel run,
// unless a rollout runs or the master stops.
func (s *Supervisor) pumpRecycles() {
	if s.rollout != nil || s.phase.Stopping() {
		return
	}
	for len(s.recycling) < max(s.cfg.Parallel, 1) && len(s.recycleQueue) > 0 {
		w := s.recycleQueue[0]
		s.recycleQueue = s.recycleQueue[1:]
		if w.state != Ready || w.slot >= len(s.slots) || s.slots[w.slot].current != w || s.recycling[w.slot] != nil {
			continue // replaced, exited or its slot removed meanwhile
		}
		sl := s.slots[w.slot]
		job := &recycleJob{old: w, cause: w.recycle}
		nw, err := s.spawn(sl.index, sl.spec, job.cause)
		if err != nil {
			s.recycleFailed(job, fmt.Sprintf("its replacement did not start: %v", err))
			continue
		}
		job.new = nw
		s.recycling[sl.index] = job
		s.recycled[job.cause]++
	}
}

// recycleWorkerReady: a recycle's new worker is ready; it takes the slot
// and the old one drains.
func (s *Supervisor) recycleWorkerReady(w *worker) {
	job := s.recycling[w.slot]
	if job == nil || job.new != w {
		return
	}
	delete(s.recycling, w.slot)
	sl := s.slots[w.slot]
	sl.current = w
	s.cancelRespawn(sl)
	if job.old.state != Exited {
		s.drain(job.old, job.cause)
	}
	s.pumpRecycles()
}

// recycleWorkerExited accounts for the exit of a worker that a recycle in
// flight holds, and reports whether it did.
func (s *Supervisor) recycleWorkerExited(w *worker) bool {
	job := s.recycling[w.slot]
	if job == nil || (w != job.old && w != job.new) {
		return false
	}
	sl := s.slots[w.slot]
	if w == job.old {
		// Gone before its replacement was ready (a crash, or the kill of
		// a hung one): the replacement takes the slot once ready.
		if sl.current == w {
			sl.current = nil
		}
		return true
	}
	delete(s.recycling, w.slot)
	switch {
	case s.phase.Stopping():
	case job.old.state == Exited:
		sl.crashes++
		s.scheduleRespawn(sl) // nothing serves in the slot: like a crash
	default:
		s.recycleFailed(job, fmt.Sprintf("its replacement pid %d %s (%s)", w.pid, newWorkerFailure(w), w.exit))
	}
	s.pumpRecycles()
	return true
}

// newWorkerFailure says why a worker that never became ready exited.
func newWorkerFailure(w *worker) string {
	if w.stop == CauseReadyTimeout {
		return "was " + w.readyTimeoutText()
	}
	return "exited before it was ready"
}

// recycleFailed: the old worker's replacement never became ready. A hung
// worker is drained anyway (the slot then respawns, with crash backoff);
// any other keeps serving and is tried again after RecycleRetry.
func (s *Supervisor) recycleFailed(job *recycleJob, why string) {
	old := job.old
	if job.cause == CauseWatchdog {
		s.note(levelError, "slot %d: %s: draining the hung pid %d anyway", old.slot, why, old.pid)
		s.drain(old, CauseWatchdog)
		return
	}
	s.note(levelWarn, "slot %d: recycle of pid %d (%s) failed: %s; it keeps serving, next try in %s",
		old.slot, old.pid, job.cause, why, RecycleRetry)
	s.after(RecycleRetry, retryEvent{w: old, cause: job.cause})
}

func (s *Supervisor) onRetry(e retryEvent) {
	w := e.w
	if w.state != Ready || w.recycle != e.cause {
		return
	}
	w.recycle = 0
	s.armWatchdog(w)
	if e.cause != CauseMemory { // memory is read again at the next check
		s.requestRecycle(w, e.cause, "was not recycled yet (retry)")
	}
}

// suspendRecycles stops the recycles in flight as a rollout begins: their
// new workers are stopped and their old workers queued again, first.
func (s *Supervisor) suspendRecycles() {
	var back []*worker
	for slot, job := range s.recycling {
		delete(s.recycling, slot)
		s.drain(job.new, CauseAborted)
		back = append(back, job.old)
	}
	s.recycleQueue = append(back, s.recycleQueue...)
}

// cancelRecycle stops the recycle in flight in slot (the slot is removed).
func (s *Supervisor) cancelRecycle(slot int, cause Cause) {
	if job := s.recycling[slot]; job != nil {
		delete(s.recycling, slot)
		s.drain(job.new, cause)
	}
}
