// Package supervisor runs a pool of workers on the master's sockets: it
// spawns them, tracks each through an explicit lifecycle (state.go),
// respawns crashes with backoff, drains and kills on stop, and replaces
// workers slot by slot in rollouts.
//
// One goroutine (Supervisor.Run) owns every piece of mutable state. Child
// exits, notify datagrams, timers, signals and control requests all arrive
// as events on one channel; nothing else touches a worker.
package supervisor
