package supervisor

import "time"

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
	return min(d, BackoffMax)
}

type respawnEvent struct {
	slot, token int
}

// scheduleRespawn starts the slot's worker again, at once or after its backoff.
func (s *Supervisor) scheduleRespawn(sl *slot) {
	s.cancelRespawn(sl)
	d := backoff(sl.crashes)
	if d == 0 {
		sl.restarts++
		s.start(sl, CauseStarted)
		return
	}
	sl.respawn = s.after(d, respawnEvent{slot: sl.index, token: sl.token})
	s.publish(Event{Kind: KindBackoff, Slot: sl.index, Delay: d, Crashes: sl.crashes})
}

func (s *Supervisor) cancelRespawn(sl *slot) {
	sl.token++
	if sl.respawn != nil {
		sl.respawn.Stop()
		sl.respawn = nil
	}
}

func (s *Supervisor) onRespawn(e respawnEvent) {
	if s.phase.Stopping() || e.slot >= len(s.slots) {
		return
	}
	sl := s.slots[e.slot]
	if e.token != sl.token || sl.current != nil {
		return
	}
	sl.respawn = nil
	sl.restarts++
	s.start(sl, CauseStarted)
}
