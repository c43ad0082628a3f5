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
	Strategy string  // "" keeps the configured one; else surge or replace
	Trigger  Trigger // what asked for it
}

// RolloutStatus is a rollout's outcome, or its progress while it runs.
type RolloutStatus struct {
	ID         int             `json:"id"`
	State      RolloutState    `json:"state"`
	Trigger    Trigger         `json:"trigger"`
	Strategy   config.Strategy `json:"strategy"`
	Generation int             `json:"generation"`
	Started    time.Time       `json:"started"`
	Finished   time.Time       `json:"finished,omitzero"`
	Seconds    float64         `json:"seconds"`
	Total      int             `json:"total"`
	Replaced   int             `json:"replaced"`
	Killed     int             `json:"killed"` // old workers SIGKILLed after --stop-timeout
	Error      string          `json:"error,omitempty"`
	Output     []string        `json:"last_output,omitempty"` // the failed worker's last lines
}

// Summary is the rollout's one-line outcome, as `baton reload` ends.
func (st RolloutStatus) Summary() string {
	if st.State == RolloutFailed {
		return fmt.Sprintf("rollout %d failed after %d of %d workers replaced: %s", st.ID, st.Replaced, st.Total, st.Error)
	}
	return fmt.Sprintf("rollout %d done: %d workers replaced in %s, %d killed after --stop-timeout", st.ID, st.Replaced, Took(st.Seconds), st.Killed)
}

// Took renders a duration in seconds: milliseconds below a second, else
// tenths of a second ("38ms", "1.2s").
func Took(seconds float64) string {
	d := time.Duration(seconds * float64(time.Second))
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

type rollout struct {
	id        int
	cfg       config.Config
	spec      *Spec
	strategy  config.Strategy
	parallel  int
	trigger   Trigger
	notes     []string // what the re-read config changes that a rollout does not apply
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
	done      chan RolloutStatus // receives the outcome; buffered
}

func (r *rollout) progressText() string {
	return fmt.Sprintf("%d of %d slots replaced", r.replaced, r.total)
}

func (r *rollout) status(now time.Time) RolloutStatus {
	return RolloutStatus{
		ID: r.id, State: RolloutRunning, Trigger: r.trigger, Strategy: r.strategy, Generation: r.spec.Generation,
		Started: r.started, Seconds: now.Sub(r.started).Seconds(), Total: r.total,
		Replaced: r.replaced, Killed: r.killed, Error: r.failure, Output: r.output,
	}
}

// Started is a rollout that began: its number (its events carry it) and
// a channel that receives its outcome once it ends.
type Started struct {
	ID   int
	Done <-chan RolloutStatus
}

type reloadRequest struct {
	opts  ReloadOptions
	reply chan reloadReply
}

type reloadReply struct {
	started Started
	err     error
}

func (r reloadRequest) serve(s *Supervisor) {
	ro, err := s.preflight(r.opts)
	if err != nil {
		r.reply <- reloadReply{err: err}
		return
	}
	r.reply <- reloadReply{started: Started{ID: ro.id, Done: ro.done}}
	s.beginRollout(ro)
}

// Reload starts a rollout and returns once it began, or a *RefusedError
// when preflight refused it (nothing changed). Its steps are events on the
// bus with Rollout.ID == Started.ID: subscribe before calling Reload to
// see them all.
func (s *Supervisor) Reload(ctx context.Context, opts ReloadOptions) (Started, error) {
	r := reloadRequest{opts: opts, reply: make(chan reloadReply, 1)}
	if err := s.ask(ctx, r); err != nil {
		return Started{}, err
	}
	rep, err := await(s, ctx, r.reply)
	if err != nil {
		return Started{}, err
	}
	return rep.started, rep.err
}

// signalReload handles SIGUSR2.
func (s *Supervisor) signalReload() {
	if s.rollout != nil {
		s.note(levelWarn, "SIGUSR2 ignored: a rollout is running (rollout %d, %s)", s.rollout.id, s.rollout.progressText())
		return
	}
	s.startTriggered(TriggerSignal)
}

// preflight checks everything before any worker is touched.
func (s *Supervisor) preflight(opts ReloadOptions) (*rollout, error) {
	if s.phase.Stopping() {
		return nil, refuseStopping()
	}
	if r := s.rollout; r != nil {
		return nil, refuse(ErrBusy, "rollout %d is already running (%s)", r.id, r.progressText())
	}
	cfg, err := s.nextConfig()
	if err != nil {
		return nil, err
	}
	strategy, err := s.strategy(cfg, opts.Strategy)
	if err != nil {
		return nil, err
	}
	s.nextGen++
	s.rollouts++
	notes := config.Unapplied(s.cfg, cfg)
	cfg.Workers = len(s.slots)
	ro := &rollout{
		id: s.rollouts, cfg: cfg, spec: SpecFrom(cfg, s.nextGen), strategy: strategy,
		parallel: max(cfg.Parallel, 1), trigger: opts.Trigger, notes: notes, total: len(s.slots),
		starting: map[int]*worker{}, replacing: map[int]*worker{}, draining: map[int]*worker{},
		started: s.now(), done: make(chan RolloutStatus, 1),
	}
	for i := range s.slots {
		ro.pending = append(ro.pending, i)
	}
	return ro, nil
}

// nextConfig re-reads the configuration for a rollout and checks it can
// be applied by one.
func (s *Supervisor) nextConfig() (config.Config, error) {
	cfg := s.cfg
	if s.opts.Reconfigure != nil {
		c, err := s.opts.Reconfigure()
		if err != nil {
			return cfg, refuse(ErrConfig, "the configuration is not valid: %v", err)
		}
		cfg = c
	}
	if !slices.Equal(cfg.Listen, s.cfg.Listen) {
		return cfg, refuse(ErrIncompatible, "the listen sockets changed in the configuration: new sockets need `baton upgrade` or a full restart")
	}
	return cfg, s.checkCompat()
}

// strategy picks the rollout's strategy: the request's, else the config's.
func (s *Supervisor) strategy(cfg config.Config, requested string) (config.Strategy, error) {
	strategy := cfg.Strategy
	if requested != "" {
		st, err := config.ParseStrategy(requested)
		if err != nil {
			return strategy, refuse(ErrInvalid, "strategy %v", err)
		}
		strategy = st
	}
	if strategy == config.StrategyReplace && len(s.slots) == 1 {
		return strategy, refuse(ErrUnsafe, "strategy replace with 1 worker would leave nothing serving: use surge")
	}
	return strategy, nil
}

func (s *Supervisor) checkCompat() error {
	if s.opts.Compat == nil {
		return nil
	}
	tok, err := s.opts.Compat()
	if err != nil {
		return refuse(ErrIncompatible, "cannot read the compatibility token: %v", err)
	}
	if tok != s.compat {
		return refuse(ErrIncompatible, "the compatibility token changed (%q → %q): this change needs `baton upgrade` or a full restart", s.compat, tok)
	}
	return nil
}
