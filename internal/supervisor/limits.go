package supervisor

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/proc"
	"github.com/batonhq/baton/internal/wire"
)

// DefaultLimitsInterval is how often the workers' memory is read when
// --max-memory is set.
const DefaultLimitsInterval = time.Second

// DefaultMemoryKind names what Options.Memory measures by default.
const DefaultMemoryKind = "RSS of its process group"

// jitterOf is a random extra of 0 up to a tenth of n, so that workers
// started together are not all recycled together (gunicorn's
// max_requests_jitter, but fixed at 10%).
func (s *Supervisor) jitterOf(n int64) int64 {
	if n/10 <= 0 {
		return 0
	}
	return s.jitter(n/10 + 1)
}

func randomJitter(n int64) int64 { return rand.Int64N(n) }

// armLimits starts the clocks of a worker that just became ready: its
// watchdog, its lifetime and its request count.
func (s *Supervisor) armLimits(w *worker) {
	s.armWatchdog(w)
	l := w.spec.Limits
	if l.MaxLifetime > 0 {
		d := l.MaxLifetime + time.Duration(s.jitterOf(int64(l.MaxLifetime)))
		w.timers = append(w.timers, s.after(d, recycleEvent{w: w, cause: CauseMaxLifetime}))
	}
	if l.MaxRequests > 0 {
		if rl, ok := w.proc.(proc.RequestLimiter); ok {
			n := int64(l.MaxRequests) + s.jitterOf(int64(l.MaxRequests))
			rl.LimitRequests(uint64(n), func() { s.post(recycleEvent{w: w, cause: CauseMaxRequests}) })
		}
	}
}

// armWatchdog (re)starts w's watchdog deadline: only while it is ready,
// has an interval and is not already being replaced.
func (s *Supervisor) armWatchdog(w *worker) {
	s.disarmWatchdog(w)
	if w.watchdog <= 0 || w.state != Ready || w.recycle != 0 {
		return
	}
	w.wd = s.after(w.watchdog, timerEvent{w: w, kind: watchdogDeadline, seq: w.wdSeq})
}

func (s *Supervisor) disarmWatchdog(w *worker) {
	w.wdSeq++
	if w.wd != nil {
		w.wd.Stop()
		w.wd = nil
	}
}

// onWatchdogNotify applies the watchdog part of a notify datagram, as
// systemd does: WATCHDOG=1 restarts the clock; WATCHDOG_USEC=N sets the
// worker's own interval (0: off) and restarts it; WATCHDOG=trigger counts
// as a missed watchdog now. Pings before ready are ignored: the clock
// starts at ready.
func (s *Supervisor) onWatchdogNotify(w *worker, n wire.Notify) {
	if n.HasWatchdogUSec {
		w.watchdog = n.WatchdogUSec
		s.armWatchdog(w)
	}
	if n.Watchdog && w.wd != nil {
		s.armWatchdog(w)
	}
	if n.WatchdogTrigger && w.state == Ready {
		s.requestRecycle(w, CauseWatchdog, "asked to be replaced with WATCHDOG=trigger")
	}
}

// watchdogMissed: w sent no ping (or passed no probe) within its interval.
func (s *Supervisor) watchdogMissed(w *worker) {
	why := fmt.Sprintf("sent no WATCHDOG=1 within %s", w.watchdog)
	if w.spec.Ready.Kind != config.ReadyNotify {
		why = fmt.Sprintf("failed its liveness probes for %s (--watchdog)", w.watchdog)
	}
	s.requestRecycle(w, CauseWatchdog, why+": hung")
}

// memoryTick is the periodic --max-memory check.
type memoryTick struct{}

// memoryReading carries what Options.Memory read, by worker pid.
type memoryReading struct {
	workers []*worker
	bytes   map[int]int64
}

// wantsMemoryTicks reports whether any worker, or the next one, has a
// --max-memory.
func (s *Supervisor) wantsMemoryTicks() bool {
	if s.spec.Limits.MaxMemory > 0 {
		return true
	}
	for _, w := range s.workers {
		if w.spec.Limits.MaxMemory > 0 {
			return true
		}
	}
	return false
}

// armMemoryTick schedules the next memory check, unless one is pending
// or nothing has a memory limit.
func (s *Supervisor) armMemoryTick() {
	if s.memTicking || s.phase.Stopping() || !s.wantsMemoryTicks() {
		return
	}
	s.memTicking = true
	s.after(s.interval, memoryTick{})
}

// onMemoryTick reads the memory of every ready worker that has a limit,
// off the supervisor's goroutine (a /proc walk or cgroup reads).
func (s *Supervisor) onMemoryTick() {
	s.memTicking = false
	var ws []*worker
	var pids []int
	for _, w := range s.workers {
		if w.state == Ready && w.recycle == 0 && w.spec.Limits.MaxMemory > 0 {
			ws, pids = append(ws, w), append(pids, w.pid)
		}
	}
	if len(ws) == 0 {
		s.armMemoryTick()
		return
	}
	s.memTicking = true // the reading re-arms it
	read := s.memory
	go func() { s.post(memoryReading{workers: ws, bytes: read(pids)}) }()
}

// onMemoryReading recycles each worker over its limit.
func (s *Supervisor) onMemoryReading(e memoryReading) {
	s.memTicking = false
	for _, w := range e.workers {
		limit := w.spec.Limits.MaxMemory
		if b, ok := e.bytes[w.pid]; ok && b > limit {
			s.requestRecycle(w, CauseMemory, fmt.Sprintf("uses %.1f MiB (%s), over --max-memory %s",
				float64(b)/(1<<20), s.memoryKind, config.FormatSize(limit)))
		}
	}
	s.armMemoryTick()
}
