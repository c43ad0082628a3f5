package supervisor

import "fmt"

// enumText renders an enum value from its names, or "Type(n)".
func enumText(names []string, typ string, v int) string {
	if v >= 0 && v < len(names) && names[v] != "" {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, v)
}

// enumParse is the inverse of enumText.
func enumParse(names []string, typ string, text []byte) (int, error) {
	for i, n := range names {
		if n != "" && n == string(text) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown %s %q", typ, text)
}

// Cause says why a worker changed state.
type Cause int

// Causes of worker transitions. The ones that ask a worker to stop are its
// stop reason; the ones that end in Exited are its exit cause.
const (
	_ Cause = iota
	// CauseStarted: → starting, a slot's first worker or a respawn.
	CauseStarted
	// CauseRollout: → starting, a rollout's new worker; → draining,
	// replaced by a rollout.
	CauseRollout
	// CauseScale: → starting, the pool grew; → draining, its slot was removed.
	CauseScale
	// CauseNotified: → ready, the worker sent READY=1.
	CauseNotified
	// CauseDelay: → ready, --ready delay:DUR passed.
	CauseDelay
	// CauseReadyTimeout: → draining, not ready within --ready-timeout.
	CauseReadyTimeout
	// CauseAborted: → draining, its rollout failed before it was ready.
	CauseAborted
	// CauseShutdown: → draining, the master is stopping.
	CauseShutdown
	// CauseCrashed: → exited on its own, not asked to.
	CauseCrashed
	// CauseDrained: → exited after the stop signal, within --stop-timeout.
	CauseDrained
	// CauseKilled: → exited, SIGKILLed after --stop-timeout.
	CauseKilled
	// CauseForced: → exited, killed at once by a second stop.
	CauseForced
	// CauseOutput: → ready, a line of its output matched --ready output:REGEX.
	CauseOutput
	// The recycles (recycle.go): → starting, the worker started in place
	// of one being recycled; → draining, the recycled worker, once its
	// replacement is ready.
	//
	// CauseWatchdog: it missed its watchdog (--watchdog), or asked with
	// WATCHDOG=trigger; counted as a crash.
	CauseWatchdog
	// CauseMemory: its memory exceeded --max-memory.
	CauseMemory
	// CauseMaxRequests: it served --max-requests requests (plus jitter).
	CauseMaxRequests
	// CauseMaxLifetime: it was ready for --max-lifetime (plus jitter).
	CauseMaxLifetime
)

var causeNames = []string{"", "started", "rollout", "scale", "notified", "delay", "ready-timeout",
	"aborted", "shutdown", "crashed", "drained", "killed", "forced", "output",
	"watchdog", "memory", "max-requests", "max-lifetime"}

// Recycle reports whether c is one of the recycle causes.
func (c Cause) Recycle() bool { return c >= CauseWatchdog && c <= CauseMaxLifetime }

func (c Cause) String() string { return enumText(causeNames, "Cause", int(c)) }

// MarshalText renders the cause's name.
func (c Cause) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText parses a cause's name.
func (c *Cause) UnmarshalText(b []byte) error {
	v, err := enumParse(causeNames, "cause", b)
	*c = Cause(v)
	return err
}

// Phase is where the master is in its life.
type Phase int

// Master phases.
const (
	_ Phase = iota
	// PhaseRunning: serving; workers are kept at the wanted count.
	PhaseRunning
	// PhaseDraining: a stop began; every worker was sent the stop signal.
	PhaseDraining
	// PhaseKilling: a second stop; every worker was SIGKILLed.
	PhaseKilling
	// PhaseStopped: every worker is gone; Run returns.
	PhaseStopped
)

var phaseNames = []string{"", "running", "draining", "killing", "stopped"}

func (p Phase) String() string { return enumText(phaseNames, "Phase", int(p)) }

// Stopping reports whether a stop has begun.
func (p Phase) Stopping() bool { return p >= PhaseDraining }

// MarshalText renders the phase's name.
func (p Phase) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText parses a phase's name.
func (p *Phase) UnmarshalText(b []byte) error {
	v, err := enumParse(phaseNames, "phase", b)
	*p = Phase(v)
	return err
}

// RolloutState is where a rollout is.
type RolloutState int

// Rollout states.
const (
	_ RolloutState = iota
	RolloutRunning
	RolloutDone
	RolloutFailed
)

var rolloutStateNames = []string{"", "running", "done", "failed"}

func (r RolloutState) String() string { return enumText(rolloutStateNames, "RolloutState", int(r)) }

// MarshalText renders the state's name.
func (r RolloutState) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses a state's name.
func (r *RolloutState) UnmarshalText(b []byte) error {
	v, err := enumParse(rolloutStateNames, "rollout state", b)
	*r = RolloutState(v)
	return err
}

// Step is one step of a rollout.
type Step int

// Rollout steps, in the order a slot goes through them.
const (
	_ Step = iota
	// StepStarted: the rollout began.
	StepStarted
	// StepNote: something the operator should know (Event.Text).
	StepNote
	// StepDraining: replace strategy, the old worker drains first.
	StepDraining
	// StepSpawned: the slot's new worker started.
	StepSpawned
	// StepReady: the new worker is ready.
	StepReady
	// StepDrained: the old worker exited after its drain.
	StepDrained
	// StepKilled: the old worker was SIGKILLed after --stop-timeout.
	StepKilled
	// StepFailed: a new worker failed; the rollout stops.
	StepFailed
	// StepDone: the outcome (Event.Rollout.State says done or failed).
	StepDone
)

var stepNames = []string{"", "started", "note", "draining", "spawned", "ready", "drained", "killed", "failed", "done"}

func (s Step) String() string { return enumText(stepNames, "Step", int(s)) }

// MarshalText renders the step's name.
func (s Step) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a step's name.
func (s *Step) UnmarshalText(b []byte) error {
	v, err := enumParse(stepNames, "step", b)
	*s = Step(v)
	return err
}

// Trigger says what started a rollout.
type Trigger int

// Rollout triggers.
const (
	_ Trigger = iota
	TriggerControl
	TriggerSignal
	TriggerWatch
)

var triggerNames = []string{"", "control", "signal", "watch"}

func (t Trigger) String() string { return enumText(triggerNames, "Trigger", int(t)) }

// MarshalText renders the trigger's name.
func (t Trigger) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText parses a trigger's name.
func (t *Trigger) UnmarshalText(b []byte) error {
	v, err := enumParse(triggerNames, "trigger", b)
	*t = Trigger(v)
	return err
}
