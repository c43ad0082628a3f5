package supervisor

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"syscall"
	"time"

	"github.com/batonhq/baton/internal/clock"
	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/proc"
)

// Options are what a supervisor needs from the master.
type Options struct {
	Name     string
	Config   config.Config
	Sockets  []SocketStatus // shown in the status
	Launcher proc.Launcher  // starts the workers
	Clock    clock.Clock    // nil: the real clock
	Bus      *Bus           // where events are published; nil: a new one
	// Reconfigure re-reads and validates the configuration for a rollout;
	// nil means the start-up config is reused.
	Reconfigure func() (config.Config, error)
	// Compat reads the compatibility token; nil means none is used.
	Compat func() (string, error)
	// Carried over from the master this one replaced (an upgrade): the
	// last generation it started, how many rollouts it ran, and how many
	// workers it recycled, by cause.
	Generation, Rollouts int
	Recycled             map[Cause]int
	// Memory reads the memory, in bytes, of each worker given by its pid
	// (which is its process group's id), for --max-memory; a worker it
	// cannot read is left out. MemoryKind names what it measures, for the
	// log. Nil: a proc.GroupMemory, "RSS of its process group" (a
	// cgroup's memory.current can be plugged in here).
	Memory     func(pids []int) map[int]int64
	MemoryKind string
	// LimitsInterval is how often memory is read; 0: DefaultLimitsInterval.
	LimitsInterval time.Duration
	// Jitter returns a random number in [0, n) for the recycling limits'
	// jitter; nil: math/rand.
	Jitter func(n int64) int64
}

// Supervisor owns the workers. Create with New, then call Run once.
type Supervisor struct {
	opts    Options
	clock   clock.Clock
	bus     *Bus
	events  chan any
	done    chan struct{}
	started time.Time

	// Everything below is owned by the Run goroutine.
	cfg      config.Config
	spec     *Spec // the generation new slots get
	nextGen  int
	rollouts int
	queued   bool // a watched change arrived during a rollout
	nextID   int
	workers  map[int]*worker // every live worker, by id
	slots    []*slot
	phase    Phase
	rollout  *rollout
	compat   string
	allReady chan struct{} // closed once every slot first has a ready worker

	// Recycling (recycle.go, limits.go).
	memory       func(pids []int) map[int]int64
	memoryKind   string
	interval     time.Duration
	jitter       func(n int64) int64
	memTicking   bool                // a memory check is pending
	recycleQueue []*worker           // workers waiting for their recycle, in order
	recycling    map[int]*recycleJob // slot → the recycle in flight there
	recycled     map[Cause]int       // recycles started, by cause
}

// slot is one position of the pool.
type slot struct {
	index    int
	current  *worker // the worker that serves, or will, for this slot
	spec     *Spec   // what a respawn of this slot runs
	restarts int     // respawns after crashes
	crashes  int     // consecutive crashes, for backoff
	respawn  clock.Timer
	token    int  // invalidates stale respawn timers
	waiting  bool // its first worker is still to start (startWaiting)
}

// New returns a supervisor; it starts nothing until Run.
func New(opts Options) *Supervisor {
	s := &Supervisor{
		opts: opts, clock: opts.Clock, bus: opts.Bus, events: make(chan any, 64), done: make(chan struct{}),
		cfg: opts.Config, workers: map[int]*worker{}, allReady: make(chan struct{}),
		nextGen: opts.Generation, rollouts: opts.Rollouts,
		memory: opts.Memory, memoryKind: opts.MemoryKind, interval: opts.LimitsInterval, jitter: opts.Jitter,
		recycling: map[int]*recycleJob{}, recycled: maps.Clone(opts.Recycled),
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.recycled == nil {
		s.recycled = map[Cause]int{}
	}
	if s.memory == nil {
		s.memory, s.memoryKind = (&proc.GroupMemory{}).Read, DefaultMemoryKind
	}
	if s.interval <= 0 {
		s.interval = DefaultLimitsInterval
	}
	if s.jitter == nil {
		s.jitter = randomJitter
	}
	if s.bus == nil {
		s.bus = NewBus()
	}
	return s
}

// AllReady is closed once every slot has had a ready worker: the pool
// serves at full strength for the first time.
func (s *Supervisor) AllReady() <-chan struct{} { return s.allReady }

// checkAllReady closes allReady when every slot's worker is ready.
func (s *Supervisor) checkAllReady() {
	select {
	case <-s.allReady:
		return
	default:
	}
	for _, sl := range s.slots {
		if sl.current == nil || sl.current.state != Ready {
			return
		}
	}
	close(s.allReady)
}

// Events is the bus every event is published on.
func (s *Supervisor) Events() *Bus { return s.bus }

func (s *Supervisor) now() time.Time { return s.clock.Now() }

// post delivers an event to the Run goroutine, or drops it once Run ended.
func (s *Supervisor) post(ev any) {
	select {
	case s.events <- ev:
	case <-s.done:
	}
}

// after posts ev once d has passed.
func (s *Supervisor) after(d time.Duration, ev any) clock.Timer {
	return s.clock.AfterFunc(d, func() { s.post(ev) })
}

// publish stamps e and puts it on the bus. Every caller sets Slot (-1
// when the event is about no slot).
func (s *Supervisor) publish(e Event) {
	e.Time = s.now()
	s.bus.publish(e)
}

// Note levels.
const (
	levelInfo  = slog.LevelInfo
	levelWarn  = slog.LevelWarn
	levelError = slog.LevelError
)

// note publishes a KindNote event.
func (s *Supervisor) note(level slog.Level, format string, args ...any) {
	s.publish(Event{Kind: KindNote, Slot: -1, Level: level, Text: fmt.Sprintf(format, args...)})
}

// setPhase moves the master to phase p and publishes it.
func (s *Supervisor) setPhase(p Phase) {
	s.phase = p
	s.publish(Event{Kind: KindPhase, Slot: -1, Phase: p, Workers: len(s.workers)})
}

// Run starts the pool and supervises it until a stop (a signal on signals,
// a Stop request, or ctx ending) has drained every worker. The bus is
// closed when Run returns, after the last event.
func (s *Supervisor) Run(ctx context.Context, signals <-chan os.Signal) error {
	defer s.bus.close()
	defer close(s.done)
	s.started = s.now()
	if s.opts.Compat != nil {
		tok, err := s.opts.Compat()
		if err != nil {
			return fmt.Errorf("read the compatibility token: %w", err)
		}
		s.compat = tok
	}
	s.nextGen++
	s.spec = SpecFrom(s.cfg, s.nextGen)
	s.setPhase(PhaseRunning)
	s.addSlots(s.cfg.Workers, CauseStarted)
	s.armMemoryTick()
	s.loop(ctx, signals)
	s.setPhase(PhaseStopped)
	return nil
}

// loop handles events until the stop is complete.
func (s *Supervisor) loop(ctx context.Context, signals <-chan os.Signal) {
	ctxDone := ctx.Done()
	for !(s.phase.Stopping() && len(s.workers) == 0) {
		select {
		case ev := <-s.events:
			s.handle(ev)
		case sig := <-signals:
			s.onSignal(sig)
		case <-ctxDone:
			ctxDone = nil
			s.beginStop(false)
		}
	}
}

func (s *Supervisor) handle(ev any) {
	switch e := ev.(type) {
	case exitEvent:
		s.onExit(e)
	case notifyEvent:
		s.onNotify(e)
	case timerEvent:
		s.onTimer(e)
	case respawnEvent:
		s.onRespawn(e)
	case startWaiting:
		s.startWaitingSlots(e.cause)
	case request:
		e.serve(s)
	case watchEvent:
		s.onWatch(e)
	case recycleEvent:
		s.onRecycle(e)
	case retryEvent:
		s.onRetry(e)
	case memoryTick:
		s.onMemoryTick()
	case memoryReading:
		s.onMemoryReading(e)
	}
}

// onSignal maps the master's signals to actions.
func (s *Supervisor) onSignal(sig os.Signal) {
	switch sig {
	case syscall.SIGTERM, syscall.SIGINT:
		s.beginStop(s.phase.Stopping())
	case syscall.SIGUSR2:
		s.signalReload()
	case syscall.SIGTTIN:
		s.signalScale(+1)
	case syscall.SIGTTOU:
		s.signalScale(-1)
	}
}

// beginStop drains every worker; force (a second stop) kills them now.
func (s *Supervisor) beginStop(force bool) {
	if s.phase.Stopping() && !force {
		return
	}
	if !s.phase.Stopping() {
		s.setPhase(PhaseDraining)
	}
	if s.rollout != nil {
		s.abortRollout(ErrStopping.Error())
	}
	for _, sl := range s.slots {
		s.cancelRespawn(sl)
	}
	s.recycling, s.recycleQueue = map[int]*recycleJob{}, nil
	if force && s.phase != PhaseKilling {
		s.setPhase(PhaseKilling)
	}
	for _, w := range s.workers {
		if force {
			s.killNow(w, CauseForced)
			continue
		}
		s.drain(w, CauseShutdown)
	}
}

// watchEvent reports that watched paths changed.
type watchEvent struct{ paths []string }

// Changed tells the supervisor that watched paths changed: a rollout
// starts, or, while one runs, exactly one more is queued.
func (s *Supervisor) Changed(paths []string) { s.post(watchEvent{paths: paths}) }

func (s *Supervisor) onWatch(e watchEvent) {
	if s.phase.Stopping() {
		return
	}
	if s.rollout != nil {
		if !s.queued {
			s.note(levelInfo, "change during rollout %d (%v): one more rollout queued", s.rollout.id, e.paths)
		}
		s.queued = true
		return
	}
	s.note(levelInfo, "watched paths changed (%v): starting a rollout", e.paths)
	s.startTriggered(TriggerWatch)
}

// startTriggered starts a rollout nobody waits on (signal, watch).
func (s *Supervisor) startTriggered(trigger Trigger) {
	ro, err := s.preflight(ReloadOptions{Trigger: trigger})
	if err != nil {
		s.note(levelError, "rollout (%s) %v", trigger, err)
		return
	}
	s.beginRollout(ro)
}

// afterRollout starts a rollout that was queued while one ran.
func (s *Supervisor) afterRollout() {
	if s.queued && !s.phase.Stopping() {
		s.queued = false
		s.note(levelInfo, "starting the queued rollout")
		s.startTriggered(TriggerWatch)
	}
}
