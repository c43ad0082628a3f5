package supervisor

import (
	"log/slog"
	"time"

	"github.com/batonhq/baton/internal/proc"
)

// Kind says what an Event is about.
type Kind int

// Event kinds.
const (
	_ Kind = iota
	// KindWorker: a worker moved from one state to another (From, To, Cause).
	KindWorker
	// KindRollout: a rollout step (Step, Rollout, Text).
	KindRollout
	// KindScale: the wanted number of workers changed (Workers, Previous).
	KindScale
	// KindPhase: the master's phase changed (Phase, Workers).
	KindPhase
	// KindBackoff: a slot waits before its next respawn (Delay, Crashes).
	KindBackoff
	// KindNote: something worth telling the operator (Level, Text).
	KindNote
)

var kindNames = []string{"", "worker", "rollout", "scale", "phase", "backoff", "note"}

func (k Kind) String() string { return enumText(kindNames, "Kind", int(k)) }

// MarshalText renders the kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses a kind's name.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := enumParse(kindNames, "kind", b)
	*k = Kind(v)
	return err
}

// Event is one thing that happened in the master. Every worker transition,
// rollout step, scale change and phase change is one Event, emitted from
// one place: the transition function and the rollout steps. Which fields
// are set depends on Kind.
type Event struct {
	Seq  uint64    `json:"seq"` // 1, 2, ... in the order published
	Time time.Time `json:"time"`
	Kind Kind      `json:"kind"`

	// The worker concerned (KindWorker, KindBackoff, rollout steps about a
	// slot); Slot is -1 when the event is about no slot.
	Slot       int `json:"slot"`
	PID        int `json:"pid,omitempty"`
	Generation int `json:"generation,omitempty"`

	// KindWorker.
	From   State      `json:"from,omitempty"`
	To     State      `json:"to,omitempty"`
	Cause  Cause      `json:"cause,omitempty"`
	Stop   Cause      `json:"stop,omitempty"` // To Exited: why it was asked to stop, if it was
	Exit   *proc.Exit `json:"exit,omitempty"` // when To is Exited
	Output []string   `json:"last_output,omitempty"`
	// Took is the time to ready (To Ready), the drain (Draining → Exited)
	// or the uptime (any other exit).
	Took time.Duration `json:"took_ns,omitempty"`

	// KindRollout: the step and the rollout as it stands after it.
	Step    Step           `json:"step,omitempty"`
	Rollout *RolloutStatus `json:"rollout,omitempty"`

	// KindScale (Workers, Previous) and KindPhase (Phase, Workers).
	Workers  int   `json:"workers,omitempty"`
	Previous int   `json:"previous,omitempty"`
	Phase    Phase `json:"phase,omitempty"`

	// KindBackoff.
	Delay   time.Duration `json:"delay_ns,omitempty"`
	Crashes int           `json:"crashes,omitempty"`

	// KindNote, and the human line of a rollout step.
	Level slog.Level `json:"level,omitempty"`
	Text  string     `json:"text,omitempty"`
}

// Final reports whether e ends a rollout.
func (e Event) Final() bool { return e.Kind == KindRollout && e.Step == StepDone }
