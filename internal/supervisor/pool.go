package supervisor

// start spawns the slot's worker; a failure to spawn is handled like a crash.
func (s *Supervisor) start(sl *slot, cause Cause) {
	sl.waiting = false
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
	s.addSlots(n-old, CauseScale)
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

// startBatch is how many workers one turn of the event loop starts when
// many slots are added at once (the first start, a scale up): each start
// is a fork and exec, tens of milliseconds on a loaded machine, and a
// request (a status, a stop) waits for the turn to end. The other slots
// start in the turns that follow, with requests answered in between.
const startBatch = 16

// startWaiting asks the loop to start the next batch of waiting slots.
type startWaiting struct{ cause Cause }

// addSlots adds n slots running the current spec, and starts their
// workers, a batch a turn.
func (s *Supervisor) addSlots(n int, cause Cause) {
	for i := 0; i < n; i++ {
		s.slots = append(s.slots, &slot{index: len(s.slots), spec: s.spec, waiting: true})
	}
	s.startWaitingSlots(cause)
}

// startWaitingSlots starts up to startBatch waiting slots, and leaves the
// rest to a later turn of the loop.
func (s *Supervisor) startWaitingSlots(cause Cause) {
	started := 0
	for _, sl := range s.slots {
		if !sl.waiting {
			continue
		}
		if s.phase.Stopping() {
			sl.waiting = false
			continue
		}
		if started == startBatch {
			go s.post(startWaiting{cause: cause}) // not from the loop: the queue may be full
			return
		}
		s.start(sl, cause)
		started++
	}
}
