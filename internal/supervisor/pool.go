package supervisor

// start spawns the slot's worker; a failure to spawn is handled like a crash.
func (s *Supervisor) start(sl *slot, cause Cause) {
	w, err := s.spawn(sl.index, sl.spec, cause)
	if err != nil {
		s.note(levelError, "slot %d: start worker: %v", sl.index, err)
		sl.crashes++
		s.scheduleRespawn(sl)
		return
	}
	sl.current = w
}

// onExit handles a worker's process exit.
func (s *Supervisor) onExit(e exitEvent) {
	w := e.w
	s.stopTimers(w)
	w.proc.KillGroup() // whatever it left behind in its group
	w.proc.Release()
	w.exit, w.tail = e.exit, w.proc.Tail()
	if err := s.transition(w, Exited, w.exitCause()); err != nil {
		s.note(levelError, "exit: %v", err)
	}
	delete(s.workers, w.id)
	if s.rolloutWorkerExited(w) || s.recycleWorkerExited(w) {
		return
	}
	var sl *slot
	if w.slot < len(s.slots) && s.slots[w.slot].current == w {
		sl = s.slots[w.slot]
		sl.current = nil
	}
	if sl == nil || !w.failed() || s.phase.Stopping() {
		return
	}
	if w.uptime() >= StableUptime {
		sl.crashes = 0
	}
	sl.crashes++
	s.scheduleRespawn(sl)
}

// scale changes the number of slots: new slots start workers of the
// current generation; removed slots drain theirs.
func (s *Supervisor) scale(n int) {
	old := len(s.slots)
	s.cfg.Workers = n
	s.publish(Event{Kind: KindScale, Slot: -1, Workers: n, Previous: old})
	for i := old; i < n; i++ {
		sl := &slot{index: i, spec: s.spec}
		s.slots = append(s.slots, sl)
		s.start(sl, CauseScale)
	}
	for i := old - 1; i >= n; i-- {
		sl := s.slots[i]
		s.cancelRespawn(sl)
		s.cancelRecycle(i, CauseScale)
		if sl.current != nil {
			s.drain(sl.current, CauseScale)
			sl.current = nil
		}
		s.slots = s.slots[:i]
	}
}
