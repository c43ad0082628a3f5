package wire

import (
	"strconv"
	"strings"
	"time"
)

// Notify is one parsed systemd notify datagram. Only the fields baton acts
// on are kept; unknown assignments are ignored, as systemd does.
type Notify struct {
	Ready     bool   // READY=1
	Stopping  bool   // STOPPING=1
	Reloading bool   // RELOADING=1
	Status    string // STATUS=...
	HasStatus bool   // a STATUS= line was present (it may be empty)
	MainPID   int    // MAINPID=...; 0 when absent
	// The watchdog (systemd's WatchdogSec= protocol): WATCHDOG=1 is a
	// keep-alive ping; WATCHDOG=trigger asks to be treated as hung now;
	// WATCHDOG_USEC=N sets the worker's own interval to N µs (0: off)
	// and, like a ping, restarts its clock.
	Watchdog        bool          // WATCHDOG=1
	WatchdogTrigger bool          // WATCHDOG=trigger
	WatchdogUSec    time.Duration // WATCHDOG_USEC=...; valid when HasWatchdogUSec
	HasWatchdogUSec bool          // a valid WATCHDOG_USEC= line was present
}

// ParseNotify parses a datagram of newline-separated KEY=VALUE assignments.
func ParseNotify(datagram []byte) Notify {
	var n Notify
	for _, line := range strings.Split(string(datagram), "\n") {
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch key {
		case "READY":
			n.Ready = val == "1"
		case "STOPPING":
			n.Stopping = val == "1"
		case "RELOADING":
			n.Reloading = val == "1"
		case "STATUS":
			n.Status, n.HasStatus = val, true
		case "MAINPID":
			n.MainPID = parsePID(val)
		case "WATCHDOG":
			n.Watchdog = n.Watchdog || val == "1"
			n.WatchdogTrigger = n.WatchdogTrigger || val == "trigger"
		case "WATCHDOG_USEC":
			n.WatchdogUSec, n.HasWatchdogUSec = parseUSec(val)
		}
	}
	return n
}

// maxUSec is the longest watchdog interval taken, in µs (a year); longer
// ones would overflow a time.Duration or mean "never" anyway.
const maxUSec = 365 * 24 * 3600 * 1_000_000

// parseUSec reads WATCHDOG_USEC's microseconds: digits only, up to maxUSec.
func parseUSec(s string) (time.Duration, bool) {
	if s == "" || len(s) > 15 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > maxUSec {
		return 0, false
	}
	return time.Duration(n) * time.Microsecond, true
}

// PIDMax is the largest pid Linux gives (PID_MAX_LIMIT).
const PIDMax = 1 << 22

// parsePID reads a pid: digits only, 1..PIDMax, else 0. (An overflow once
// turned into a negative number, which kill(2) takes as a process group.)
func parsePID(s string) int {
	if s == "" || len(s) > 7 || strings.TrimLeft(s, "0123456789") != "" {
		return 0
	}
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 || pid > PIDMax {
		return 0
	}
	return pid
}

// NotifyAddr turns a NOTIFY_SOCKET value into a unixgram address name: a
// leading '@' means Linux's abstract namespace (a leading NUL byte).
func NotifyAddr(value string) string {
	if strings.HasPrefix(value, "@") {
		return "\x00" + value[1:]
	}
	return value
}
