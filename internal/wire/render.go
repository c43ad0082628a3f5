package wire

import (
	"strconv"
	"strings"
)

// The master's side of the protocols: what it puts in a worker's
// environment. The parsing side (ParseActivation, ParseNotify) is in this
// package too, so the two cannot drift.

// ListenEnv returns LISTEN_FDS and LISTEN_FDNAMES for sockets named names,
// passed at FirstFD, FirstFD+1, ... in that order. LISTEN_PID must be the
// worker's own pid, which only the worker knows: see WithListenPID.
func ListenEnv(names []string) []string {
	if len(names) == 0 {
		return nil
	}
	return []string{
		EnvListenFDs + "=" + strconv.Itoa(len(names)),
		EnvListenFDNames + "=" + JoinNames(names),
	}
}

// FD returns the descriptor number a worker sees the i-th socket on.
func FD(i int) int { return FirstFD + i }

// WithListenPID returns env with LISTEN_PID set to pid when env passes
// sockets (has LISTEN_FDS), else env unchanged.
func WithListenPID(env []string, pid int) []string {
	if lookup(env, EnvListenFDs) == "" {
		return env
	}
	return set(env, EnvListenPID, strconv.Itoa(pid))
}

// NotifyEnv returns the NOTIFY_SOCKET assignment for a socket at path.
func NotifyEnv(path string) string { return EnvNotifySocket + "=" + path }

// WorkerEnv returns baton's own per-worker variables.
func WorkerEnv(slot, generation int) []string {
	return []string{EnvSlot + "=" + strconv.Itoa(slot), EnvGeneration + "=" + strconv.Itoa(generation)}
}

// MasterOnly lists the variables that describe one process's own
// activation or baton's per-worker values: a worker must not inherit the
// master's.
var MasterOnly = []string{EnvListenFDs, EnvListenPID, EnvListenFDNames, EnvNotifySocket, EnvSlot, EnvGeneration, EnvHandover}

// Without returns env without the variables named in keys.
func Without(env []string, keys ...string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, d := range keys {
			if k == d {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

func lookup(env []string, key string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

func set(env []string, key, val string) []string {
	return append(Without(env, key), key+"="+val)
}
