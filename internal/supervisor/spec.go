package supervisor

import (
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/wire"
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
	StopTimeout  time.Duration
}

// SpecFrom builds a generation's spec from a validated config.
func SpecFrom(c config.Config, gen int) *Spec {
	return &Spec{
		Generation: gen, Command: c.Command, Env: c.Env, Dir: c.Dir,
		Ready: c.Ready, ReadyTimeout: c.ReadyTimeout,
		StopSignal: c.StopSignal, StopTimeout: c.StopTimeout,
	}
}

// inheritedEnv is the master's environment without the variables that
// describe the master's own activation or baton's per-worker values.
func inheritedEnv() []string {
	drop := []string{wire.EnvListenFDs, wire.EnvListenPID, wire.EnvListenFDNames,
		wire.EnvNotifySocket, wire.EnvSlot, wire.EnvGeneration}
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, d := range drop {
			if k == d {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}
