package wire

import (
	"fmt"
	"strconv"
	"strings"
)

// Environment variables of the systemd socket-activation and notify
// protocols, and the ones baton adds for every worker.
const (
	EnvListenFDs     = "LISTEN_FDS"
	EnvListenPID     = "LISTEN_PID"
	EnvListenFDNames = "LISTEN_FDNAMES"
	EnvNotifySocket  = "NOTIFY_SOCKET"
	EnvWatchdogUSec  = "WATCHDOG_USEC"
	EnvWatchdogPID   = "WATCHDOG_PID"
	EnvSlot          = "BATON_SLOT"
	EnvGeneration    = "BATON_GENERATION"
)

// FirstFD is the first inherited descriptor (SD_LISTEN_FDS_START).
const FirstFD = 3

// JoinNames renders socket names as LISTEN_FDNAMES wants them.
func JoinNames(names []string) string { return strings.Join(names, ":") }

// Activation is a parsed socket-activation environment.
type Activation struct {
	PID   int      // LISTEN_PID: the process the sockets are meant for
	Count int      // LISTEN_FDS: descriptors FirstFD..FirstFD+Count-1
	Names []string // LISTEN_FDNAMES, one per descriptor ("unknown" when absent)
}

// ParseActivation reads the three LISTEN_* values as getenv would return
// them. ok is false when LISTEN_FDS is absent (not socket-activated); err
// reports values that are present but malformed.
func ParseActivation(getenv func(string) string) (a Activation, ok bool, err error) {
	fds := getenv(EnvListenFDs)
	if fds == "" {
		return Activation{}, false, nil
	}
	n, err := strconv.Atoi(fds)
	if err != nil || n < 0 {
		return Activation{}, false, fmt.Errorf("parse %s=%q: want a count >= 0", EnvListenFDs, fds)
	}
	pid, err := strconv.Atoi(getenv(EnvListenPID))
	if err != nil || pid <= 0 {
		return Activation{}, false, fmt.Errorf("parse %s=%q: want a pid", EnvListenPID, getenv(EnvListenPID))
	}
	names := make([]string, n)
	raw := getenv(EnvListenFDNames)
	var given []string
	if raw != "" {
		given = strings.Split(raw, ":")
	}
	for i := range names {
		names[i] = "unknown"
		if i < len(given) && given[i] != "" {
			names[i] = given[i]
		}
	}
	return Activation{PID: pid, Count: n, Names: names}, true, nil
}
