// Package supervisor runs a pool of workers on the master's sockets: it
// spawns them, tracks each through an explicit lifecycle (state.go),
// respawns crashes with backoff (backoff.go), drains and kills on stop,
// and replaces workers slot by slot in rollouts (rollout*.go).
//
// One goroutine (Supervisor.Run) owns every piece of mutable state. Child
// exits, notify datagrams, timers and control requests arrive as events on
// one channel; the master's signals arrive on the channel Run is given.
// Nothing else touches a worker.
//
// Everything that happens comes out as one typed stream of Event values
// (event.go), published on a Bus (bus.go) that never blocks the
// supervisor: logs, rollout progress, status and metrics all subscribe to
// it. The operating system (proc.Launcher) and time (clock.Clock) are
// options, so the logic is unit-tested with fakes in milliseconds.
package supervisor
