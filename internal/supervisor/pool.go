package supervisor

import (
	"time"
)

// Crash backoff: the first crash of a slot respawns at once, later ones
// wait BackoffBase, doubling up to BackoffMax. A worker that ran for
// StableUptime resets its slot's count.
const (
	BackoffBase  = 100 * time.Millisecond
	BackoffMax   = 30 * time.Second
	StableUptime = 10 * time.Second
)

// backoff is the delay before respawning after the n-th consecutive crash.
func backoff(n int) time.Duration {
	if n <= 1 {
		return 0
	}
	d := BackoffBase
	for i := 2; i < n && d < BackoffMax; i++ {
		d *= 2
	}
	if d > BackoffMax {
		d = BackoffMax
	}
	return d
}

// start spawns the slot's worker; a failure to spawn is handled like a crash.
func (s *Supervisor) start(sl *slot) {
	w, err := s.spawn(sl.index, sl.spec)
	if err != nil {
		s.log.Error("start worker", "slot", sl.index, "err", err)
		sl.crashes++
		s.scheduleRespawn(sl)
		return
	}
	sl.current = w
	s.log.Info("worker started", "slot", sl.index, "pid", w.pid, "gen", w.gen)
}

func (s *Supervisor) scheduleRespawn(sl *slot) {
	s.cancelRespawn(sl)
	d := backoff(sl.crashes)
	if d == 0 {
		sl.restarts++
		s.start(sl)
		return
	}
	s.log.Info("respawn backing off", "slot", sl.index, "delay", d.String(), "consecutive_crashes", sl.crashes)
	sl.respawn = s.after(d, respawnEvent{slot: sl.index, token: sl.token})
}

func (s *Supervisor) cancelRespawn(sl *slot) {
	sl.token++
	if sl.respawn != nil {
		sl.respawn.Stop()
		sl.respawn = nil
	}
}

func (s *Supervisor) onRespawn(e respawnEvent) {
	if s.stopping || e.slot >= len(s.slots) {
		return
	}
	sl := s.slots[e.slot]
	if e.token != sl.token || sl.current != nil {
		return
	}
	sl.respawn = nil
	sl.restarts++
	s.start(sl)
}

// onExit handles a worker's process exit.
func (s *Supervisor) onExit(e exitEvent) {
	w := e.w
	s.stopTimers(w)
	w.proc.KillGroup() // whatever it left behind in its group
	w.proc.Release()
	w.exit, w.tail = e.exit, w.proc.Tail()
	if err := s.transition(w, Exited); err != nil {
		s.log.Error("exit", "err", err)
	}
	delete(s.workers, w.id)
	if s.rolloutWorkerExited(w) {
		return
	}
	var sl *slot
	if w.slot < len(s.slots) && s.slots[w.slot].current == w {
		sl = s.slots[w.slot]
		sl.current = nil
	}
	if w.stopAsked && w.failure == "" {
		s.log.Info("worker exited", "slot", w.slot, "pid", w.pid, "gen", w.gen, "exit", w.exit,
			"drain", w.exitAt.Sub(w.drainAt).Round(time.Millisecond).String(), "killed", w.killed)
		return
	}
	s.onCrash(w, sl)
}

// onCrash logs an exit the master did not ask for (or a worker that never
// became ready) and respawns its slot.
func (s *Supervisor) onCrash(w *worker, sl *slot) {
	uptime := w.exitAt.Sub(w.started)
	msg, reason := "worker crashed", w.exit
	if w.failure != "" {
		msg, reason = "worker failed", w.failure
	}
	s.log.Error(msg, "slot", w.slot, "pid", w.pid, "gen", w.gen, "exit", w.exit, "reason", reason,
		"uptime", uptime.Round(time.Millisecond).String(), "last_output", w.tail)
	if sl == nil || s.stopping {
		return
	}
	if uptime >= StableUptime {
		sl.crashes = 0
	}
	sl.crashes++
	s.scheduleRespawn(sl)
}

// scale changes the number of slots: new slots start workers of the
// current generation; removed slots drain theirs.
func (s *Supervisor) scale(n int) {
	old := len(s.slots)
	for i := old; i < n; i++ {
		sl := &slot{index: i, spec: s.spec}
		s.slots = append(s.slots, sl)
		s.start(sl)
	}
	for i := old - 1; i >= n; i-- {
		sl := s.slots[i]
		s.cancelRespawn(sl)
		if sl.current != nil {
			s.drain(sl.current)
			sl.current = nil
		}
		s.slots = s.slots[:i]
	}
	s.cfg.Workers = n
	s.log.Info("scaled", "from", old, "to", n)
}
