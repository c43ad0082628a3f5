package supervisor

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/batonhq/baton/internal/config"
)

// ReloadOptions shape one rollout.
type ReloadOptions struct {
	Strategy string // "" keeps the configured one
	Trigger  string // "signal", "control", "watch": for logs
}

// Progress is one step of a rollout, streamed to `baton reload`.
type Progress struct {
	Rollout int       `json:"rollout"`
	Time    time.Time `json:"time"`
	Step    string    `json:"step"` // started, spawned, ready, drained, killed, failed, note
	Slot    int       `json:"slot"`
	PID     int       `json:"pid,omitempty"`
	Millis  int64     `json:"ms,omitempty"`
	Text    string    `json:"text"`
}

// RolloutStatus is a rollout's outcome, or its progress while it runs.
type RolloutStatus struct {
	ID         int       `json:"id"`
	State      string    `json:"state"` // running, done, failed
	Trigger    string    `json:"trigger"`
	Strategy   string    `json:"strategy"`
	Generation int       `json:"generation"`
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished,omitzero"`
	Seconds    float64   `json:"seconds"`
	Total      int       `json:"total"`
	Replaced   int       `json:"replaced"`
	Killed     int       `json:"killed"` // old workers SIGKILLed after --stop-timeout
	Error      string    `json:"error,omitempty"`
	Output     []string  `json:"last_output,omitempty"` // the failed worker's last lines
}

type rollout struct {
	id        int
	cfg       config.Config
	spec      *Spec
	strategy  string
	parallel  int
	trigger   string
	total     int
	pending   []int
	starting  map[int]*worker // slot → new worker, not ready yet
	replacing map[int]*worker // slot → old worker drained before its new one starts
	draining  map[int]*worker // id → old worker draining after its replacement is ready
	started   time.Time
	replaced  int
	killed    int
	failure   string
	output    []string
	progress  chan<- Progress
	reply     chan<- RolloutStatus
}

func (r *rollout) progressText() string {
	return fmt.Sprintf("%d of %d slots replaced", r.replaced, r.total)
}

func (r *rollout) status(now time.Time) RolloutStatus {
	st := RolloutStatus{
		ID: r.id, State: "running", Trigger: r.trigger, Strategy: r.strategy, Generation: r.spec.Generation,
		Started: r.started, Seconds: now.Sub(r.started).Seconds(), Total: r.total,
		Replaced: r.replaced, Killed: r.killed, Error: r.failure, Output: r.output,
	}
	return st
}

type reloadRequest struct {
	opts     ReloadOptions
	progress chan<- Progress
	reply    chan RolloutStatus
	refused  chan error
}

func (r reloadRequest) serve(s *Supervisor) {
	ro, err := s.preflight(r.opts)
	if err != nil {
		r.refused <- err
		return
	}
	r.refused <- nil
	ro.progress, ro.reply = r.progress, r.reply
	s.beginRollout(ro)
}

// Reload starts a rollout. progress (may be nil) receives each step; it is
// never blocked on: a slow reader misses steps. Reload returns a
// *RefusedError when preflight refuses, else waits for the outcome.
func (s *Supervisor) Reload(ctx context.Context, opts ReloadOptions, progress chan<- Progress) (RolloutStatus, error) {
	r := reloadRequest{opts: opts, progress: progress, reply: make(chan RolloutStatus, 1), refused: make(chan error, 1)}
	if err := s.ask(ctx, r); err != nil {
		return RolloutStatus{}, err
	}
	if err := <-r.refused; err != nil {
		return RolloutStatus{}, err
	}
	select {
	case st := <-r.reply:
		return st, nil
	case <-ctx.Done():
		return RolloutStatus{}, fmt.Errorf("wait for rollout: %w", ctx.Err())
	}
}

// signalReload handles SIGUSR2.
func (s *Supervisor) signalReload() {
	if s.rollout != nil {
		s.log.Warn("SIGUSR2 ignored: a rollout is running", "rollout", s.rollout.id, "progress", s.rollout.progressText())
		return
	}
	s.startTriggered("signal")
}

// preflight checks everything before any worker is touched.
func (s *Supervisor) preflight(opts ReloadOptions) (*rollout, error) {
	if s.stopping {
		return nil, Refused(ErrStopping.Error())
	}
	if r := s.rollout; r != nil {
		return nil, Refused(fmt.Sprintf("rollout %d is already running (%s)", r.id, r.progressText()))
	}
	cfg := s.cfg
	if s.opts.Reconfigure != nil {
		c, err := s.opts.Reconfigure()
		if err != nil {
			return nil, Refused(fmt.Sprintf("the configuration is not valid: %v", err))
		}
		cfg = c
	}
	if !slices.Equal(cfg.Listen, s.cfg.Listen) {
		return nil, Refused("the listen sockets changed in the configuration: new sockets need `baton upgrade` or a full restart")
	}
	if err := s.checkCompat(); err != nil {
		return nil, err
	}
	strategy := cfg.Strategy
	if opts.Strategy != "" {
		strategy = opts.Strategy
	}
	switch strategy {
	case config.StrategySurge, config.StrategyReplace:
	default:
		return nil, Refused(fmt.Sprintf("strategy %q is not valid: valid is surge or replace", strategy))
	}
	if strategy == config.StrategyReplace && len(s.slots) == 1 {
		return nil, Refused("strategy replace with 1 worker would leave nothing serving: use surge")
	}
	s.nextGen++
	s.rollouts++
	cfg.Workers = len(s.slots)
	ro := &rollout{
		id: s.rollouts, cfg: cfg, spec: SpecFrom(cfg, s.nextGen), strategy: strategy,
		parallel: cfg.Parallel, trigger: opts.Trigger, total: len(s.slots),
		starting: map[int]*worker{}, replacing: map[int]*worker{}, draining: map[int]*worker{},
		started: s.now(),
	}
	if ro.parallel < 1 {
		ro.parallel = 1
	}
	for i := range s.slots {
		ro.pending = append(ro.pending, i)
	}
	return ro, nil
}

func (s *Supervisor) checkCompat() error {
	if s.opts.Compat == nil {
		return nil
	}
	tok, err := s.opts.Compat()
	if err != nil {
		return Refused(fmt.Sprintf("cannot read the compatibility token: %v", err))
	}
	if tok != s.compat {
		return Refused(fmt.Sprintf("the compatibility token changed (%q → %q): this change needs `baton upgrade` or a full restart", s.compat, tok))
	}
	return nil
}
