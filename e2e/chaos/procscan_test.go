package chaos

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"
)

// procInfo is what /proc/PID/stat says about a process.
type procInfo struct {
	pid, ppid int
	state     byte // R, S, D, T (stopped), Z (zombie), ...
}

// readProc reads pid's state and parent, ok false when it is gone.
func readProc(pid int) (procInfo, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procInfo{}, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return procInfo{}, false
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 2 {
		return procInfo{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	return procInfo{pid: pid, ppid: ppid, state: f[0][0]}, true
}

// allProcs lists every process on the host.
func allProcs() []procInfo {
	entries, _ := os.ReadDir("/proc")
	var out []procInfo
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			out = append(out, p)
		}
	}
	return out
}

// markedPIDs lists the live processes whose environment holds the
// variable marker (KEY=VALUE): every worker of a master started with
// --env marker, and whatever they started.
func markedPIDs(marker string) []int {
	var out []int
	want := []byte(marker + "\x00")
	for _, p := range allProcs() {
		if p.state == 'Z' {
			continue
		}
		env, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid) + "/environ")
		if err != nil {
			continue
		}
		if bytes.HasPrefix(env, want) || bytes.Contains(env, append([]byte{0}, want...)) {
			out = append(out, p.pid)
		}
	}
	return out
}

// zombieChildren lists the zombie children of pid: processes it did not reap.
func zombieChildren(pid int) []int {
	var out []int
	for _, p := range allProcs() {
		if p.ppid == pid && p.state == 'Z' {
			out = append(out, p.pid)
		}
	}
	return out
}

// argv0 is pid's argv[0], "" when it is gone.
func argv0(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	first, _, _ := bytes.Cut(b, []byte{0})
	return string(first)
}

// fdCount counts pid's open descriptors, -1 when it is gone.
func fdCount(pid int) int {
	entries, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}

// procStatusField reads a number of /proc/PID/status, such as Threads
// or VmRSS (in kB), -1 when it is not there.
func procStatusField(pid int, field string) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.Atoi(strings.Fields(v)[0])
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// settledFDs waits until pid's descriptor count has not changed for
// `quiet` (connections closing, idle upstream connections expiring) and
// returns it; after timeout it returns the last count.
func settledFDs(pid int, quiet, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	last, since := fdCount(pid), time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		n := fdCount(pid)
		if n != last {
			last, since = n, time.Now()
			continue
		}
		if time.Since(since) >= quiet {
			return n
		}
	}
	return last
}

// childProcs lists pid's children, whichever of its threads forked them
// (/proc/PID/task/TID/children lists one thread's only).
func childProcs(pid int) []int {
	var out []int
	for _, p := range allProcs() {
		if p.ppid == pid {
			out = append(out, p.pid)
		}
	}
	return out
}
