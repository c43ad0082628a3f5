package supervisor

import (
	"syscall"
	"time"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/proc"
)

// Spec is what one generation of workers runs: taken from the config when
// the master starts and again, re-read, at every rollout.
type Spec struct {
	Generation   int
	Command      []string
	Env          []string // user additions, KEY=VAL
	Dir          string   // as configured; symlinks are resolved per worker
	Ready        config.Readiness
	ReadyTimeout time.Duration
	StopSignal   syscall.Signal
	// StopTimeout is how long a worker may take from the start of its
	// drain to its exit: --stop-timeout, plus --drain-timeout in proxy
	// mode, where the stop signal comes only after the drain.
	StopTimeout time.Duration
	// Proxy mode only.
	PortEnv      string
	DrainTimeout time.Duration
	// Limits: the watchdog and the recycling limits (0: off).
	Limits config.Limits
}

// SpecFrom builds a generation's spec from a validated config.
func SpecFrom(c config.Config, gen int) *Spec {
	return &Spec{
		Generation: gen, Command: c.Command, Env: c.Env, Dir: c.Dir,
		Ready: c.Ready, ReadyTimeout: c.ReadyTimeout,
		StopSignal: c.StopSignal, StopTimeout: c.StopTimeout + c.DrainTimeout,
		PortEnv: c.PortEnv, DrainTimeout: c.DrainTimeout, Limits: c.Limits,
	}
}

// launch describes worker id in slot running this spec.
func (sp *Spec) launch(id, slot int) proc.Launch {
	l := proc.Launch{ID: id, Slot: slot, Generation: sp.Generation, Command: sp.Command,
		Env: sp.Env, Dir: sp.Dir, Notify: sp.Ready.Kind == config.ReadyNotify, Ready: sp.Ready,
		PortEnv: sp.PortEnv, DrainTimeout: sp.DrainTimeout, Watchdog: sp.Limits.Watchdog}
	if sp.Ready.Kind == config.ReadyOutput {
		l.ReadyOutput = sp.Ready.Output
	}
	return l
}
