package supervisor

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/sockets"
)

// Options are what a supervisor needs from the master.
type Options struct {
	Name     string
	Config   config.Config
	Sockets  []*sockets.Socket // shown in the status
	Launcher Launcher          // starts the workers
	Logger   *slog.Logger
	// Reconfigure re-reads and validates the configuration for a rollout;
	// nil means the start-up config is reused.
	Reconfigure func() (config.Config, error)
	// Compat reads the compatibility token; nil means none is used.
	Compat func() (string, error)
}

// ErrStopping is returned to requests that arrive while the master stops.
var ErrStopping = errors.New("the master is stopping")

// Supervisor owns the workers. Create with New, then call Run once.
type Supervisor struct {
	opts    Options
	log     *slog.Logger
	events  chan any
	done    chan struct{}
	started time.Time

	// Everything below is owned by the Run goroutine.
	cfg         config.Config
	spec        *Spec // the generation new slots get
	nextGen     int
	rollouts    int
	queued      bool // a watched change arrived during a rollout
	nextID      int
	workers     map[int]*worker // every live worker, by id
	slots       []*slot
	stopping    bool
	forced      bool
	rollout     *rollout
	lastRollout *RolloutStatus
	compat      string
}

// slot is one position of the pool.
type slot struct {
	index    int
	current  *worker // the worker that serves, or will, for this slot
	spec     *Spec   // what a respawn of this slot runs
	restarts int     // respawns after crashes
	crashes  int     // consecutive crashes, for backoff
	respawn  *time.Timer
	token    int // invalidates stale respawn timers
}

type respawnEvent struct {
	slot, token int
}

// New returns a supervisor; it starts nothing until Run.
func New(opts Options) *Supervisor {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Supervisor{
		opts: opts, log: log, events: make(chan any, 64), done: make(chan struct{}),
		cfg: opts.Config, workers: map[int]*worker{},
	}
}

func (s *Supervisor) now() time.Time { return time.Now() }

// post delivers an event to the Run goroutine, or drops it once Run ended.
func (s *Supervisor) post(ev any) {
	select {
	case s.events <- ev:
	case <-s.done:
	}
}

// after posts ev once d has passed.
func (s *Supervisor) after(d time.Duration, ev any) *time.Timer {
	return time.AfterFunc(d, func() { s.post(ev) })
}

// Run starts the pool and supervises it until a stop (a signal on signals,
// a Stop request, or ctx ending) has drained every worker.
func (s *Supervisor) Run(ctx context.Context, signals <-chan os.Signal) error {
	defer close(s.done)
	s.started = s.now()
	if s.opts.Compat != nil {
		tok, err := s.opts.Compat()
		if err != nil {
			return err
		}
		s.compat = tok
	}
	s.nextGen = 1
	s.spec = SpecFrom(s.cfg, s.nextGen)
	s.log.Info("master started", "name", s.opts.Name, "pid", os.Getpid(), "workers", s.cfg.Workers, "sockets", socketList(s.opts.Sockets))
	for i := 0; i < s.cfg.Workers; i++ {
		sl := &slot{index: i, spec: s.spec}
		s.slots = append(s.slots, sl)
		s.start(sl)
	}
	ctxDone := ctx.Done()
	for !(s.stopping && len(s.workers) == 0) {
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
	s.log.Info("master stopped", "name", s.opts.Name)
	return nil
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
	case request:
		e.serve(s)
	case watchEvent:
		s.onWatch(e)
	}
}

// onSignal maps the master's signals to actions.
func (s *Supervisor) onSignal(sig os.Signal) {
	switch sig {
	case syscall.SIGTERM, syscall.SIGINT:
		s.beginStop(s.stopping)
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
	if s.stopping && !force {
		return
	}
	if !s.stopping {
		s.log.Info("stopping: draining all workers", "workers", len(s.workers), "stop_timeout", s.cfg.StopTimeout.String())
	}
	s.stopping = true
	if s.rollout != nil {
		s.abortRollout(ErrStopping.Error())
	}
	for _, sl := range s.slots {
		s.cancelRespawn(sl)
	}
	if force && !s.forced {
		s.forced = true
		s.log.Warn("second stop signal: killing all workers now", "workers", len(s.workers))
	}
	for _, w := range s.workers {
		if force {
			w.stopAsked = true
			w.proc.KillGroup()
			continue
		}
		s.drain(w)
	}
}

// drain asks w to exit: the stop signal, then SIGKILL to its group once
// its stop timeout passes.
func (s *Supervisor) drain(w *worker) {
	if w.state == Draining || w.state == Exited {
		return
	}
	w.stopAsked = true
	if err := s.transition(w, Draining); err != nil {
		s.log.Error("drain", "err", err)
		return
	}
	s.stopTimers(w)
	if err := w.proc.Signal(w.spec.StopSignal); err != nil {
		s.log.Warn("signal worker", "slot", w.slot, "pid", w.pid, "err", err)
	}
	w.timers = append(w.timers, s.after(w.spec.StopTimeout, timerEvent{w: w, kind: stopDeadline}))
}

func (s *Supervisor) onTimer(e timerEvent) {
	w := e.w
	if w.state == Exited {
		return
	}
	switch e.kind {
	case readyDelay:
		if w.state == Starting {
			s.markReady(w)
		}
	case readyDeadline:
		if w.state == Starting {
			w.failure = "not ready within --ready-timeout " + w.spec.ReadyTimeout.String()
			s.log.Warn("worker not ready in time: stopping it", "slot", w.slot, "pid", w.pid, "gen", w.gen, "ready_timeout", w.spec.ReadyTimeout.String())
			s.drain(w)
		}
	case stopDeadline:
		if w.state == Draining {
			w.killed = true
			s.log.Warn("worker did not exit within --stop-timeout: killing its process group", "slot", w.slot, "pid", w.pid, "gen", w.gen, "stop_timeout", w.spec.StopTimeout.String())
			w.proc.KillGroup()
		}
	}
}

func (s *Supervisor) onNotify(e notifyEvent) {
	w := e.w
	if w.state == Exited {
		return
	}
	if e.msg.HasStatus {
		w.status = e.msg.Status
	}
	if e.msg.Ready && w.state == Starting {
		s.markReady(w)
	}
	if e.msg.Stopping {
		s.log.Debug("worker says it is stopping", "slot", w.slot, "pid", w.pid)
	}
}

// markReady records that w serves.
func (s *Supervisor) markReady(w *worker) {
	if err := s.transition(w, Ready); err != nil {
		s.log.Error("ready", "err", err)
		return
	}
	s.stopTimers(w)
	s.log.Info("worker ready", "slot", w.slot, "pid", w.pid, "gen", w.gen, "after", w.readyAt.Sub(w.started).Round(time.Millisecond).String())
	s.rolloutWorkerReady(w)
}

func socketList(socks []*sockets.Socket) []string {
	out := make([]string, len(socks))
	for i, so := range socks {
		out[i] = so.Name + "=" + so.Network + ":" + so.Addr
	}
	return out
}

// watchEvent reports that watched paths changed.
type watchEvent struct{ paths []string }

// Changed tells the supervisor that watched paths changed: a rollout
// starts, or, while one runs, exactly one more is queued.
func (s *Supervisor) Changed(paths []string) { s.post(watchEvent{paths: paths}) }

func (s *Supervisor) onWatch(e watchEvent) {
	if s.stopping {
		return
	}
	if s.rollout != nil {
		if !s.queued {
			s.log.Info("change during a rollout: one more rollout queued", "paths", e.paths, "rollout", s.rollout.id)
		}
		s.queued = true
		return
	}
	s.log.Info("watched paths changed: starting a rollout", "paths", e.paths)
	s.startTriggered("watch")
}

// startTriggered starts a rollout nobody waits on (signal, watch).
func (s *Supervisor) startTriggered(trigger string) {
	ro, err := s.preflight(ReloadOptions{Trigger: trigger})
	if err != nil {
		s.log.Error("rollout refused", "trigger", trigger, "reason", err.Error())
		return
	}
	s.beginRollout(ro)
}

// afterRollout starts a rollout that was queued while one ran.
func (s *Supervisor) afterRollout() {
	if s.queued && !s.stopping {
		s.queued = false
		s.log.Info("starting the queued rollout")
		s.startTriggered("watch")
	}
}
