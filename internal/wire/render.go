package wire

import (
	"fmt"
	"strconv"
	"strings"
	"time"
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

// WithWatchdogPID returns env with WATCHDOG_PID set to pid when env
// enables the watchdog (has WATCHDOG_USEC), else env unchanged: like
// LISTEN_PID, only the worker itself knows its pid (sd_watchdog_enabled
// ignores WATCHDOG_USEC meant for another process).
func WithWatchdogPID(env []string, pid int) []string {
	if lookup(env, EnvWatchdogUSec) == "" {
		return env
	}
	return set(env, EnvWatchdogPID, strconv.Itoa(pid))
}

// WatchdogEnv returns the WATCHDOG_USEC assignment for interval d.
func WatchdogEnv(d time.Duration) string {
	return EnvWatchdogUSec + "=" + strconv.FormatInt(d.Microseconds(), 10)
}

// ParseWatchdog reads WATCHDOG_USEC and WATCHDOG_PID as getenv returns
// them, as sd_watchdog_enabled does: the interval, or 0 when the watchdog
// is off or meant for another process (WATCHDOG_PID set and not pid).
func ParseWatchdog(getenv func(string) string, pid int) (time.Duration, error) {
	raw := getenv(EnvWatchdogUSec)
	if raw == "" {
		return 0, nil
	}
	d, ok := parseUSec(raw)
	if !ok {
		return 0, fmt.Errorf("parse %s=%q: want microseconds", EnvWatchdogUSec, raw)
	}
	if p := getenv(EnvWatchdogPID); p != "" && parsePID(p) != pid {
		return 0, nil
	}
	return d, nil
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
var MasterOnly = []string{EnvListenFDs, EnvListenPID, EnvListenFDNames, EnvNotifySocket, EnvSlot, EnvGeneration, EnvHandover,
	EnvWatchdogUSec, EnvWatchdogPID}

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
