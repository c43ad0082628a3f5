package ops

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
)

// markerPIDs lists the live processes whose command line holds marker.
func markerPIDs(marker string) []int {
	files, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var out []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || !strings.Contains(string(b), marker) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil && e2etest.Alive(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// killMarked kills what a failed test left behind.
func killMarked(marker string) {
	for _, pid := range markerPIDs(marker) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// escapingWorker writes a worker script whose main process is the hello
// server and which first starts, with setsid, a loop that leaves its
// process group and session (its argv holds marker).
func escapingWorker(t *testing.T, marker string) string {
	t.Helper()
	return e2etest.WriteScript(t, t.TempDir(), "escape.sh", "#!/bin/sh\n"+
		"setsid sh -c 'while :; do sleep 1; done' "+marker+" &\n"+
		"exec "+e2etest.HelloBin+"\n")
}

// startContained starts a master of 2 escaping workers and waits until
// both escaped; it skips when no cgroup is writable here.
func startContained(t *testing.T, name, marker string) (*e2etest.Master, string) {
	t.Helper()
	t.Cleanup(func() { killMarked(marker) })
	m := e2etest.StartMaster(t, 2, "--name", name, "-w", "2", "-l", "127.0.0.1:0", "--", escapingWorker(t, marker))
	cg, ok := strings.CutPrefix(m.Status().Master.Containment, "cgroup v2 ")
	if !ok {
		t.Skipf("no writable cgroup v2 here (containment: %s)", m.Status().Master.Containment)
	}
	cg, _, _ = strings.Cut(cg, " ")
	e2etest.WaitFor(t, "2 escaped processes", 10*time.Second, func() bool { return len(markerPIDs(marker)) == 2 })
	for _, pid := range markerPIDs(marker) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		if !strings.Contains(string(b), filepath.Base(cg)+"/w") {
			t.Fatalf("escaped pid %d is not in a worker cgroup of %s: %s", pid, cg, b)
		}
	}
	return m, cg
}

// Item 5: a worker's grandchild that left the process group (setsid) is
// in the worker's cgroup and dies with `baton stop`; the cgroups go too.
func TestContainCgroupStopLeavesNothing(t *testing.T) {
	marker := "baton-contain-stop-" + strconv.Itoa(os.Getpid())
	m, cg := startContained(t, "contain", marker)
	st := m.Status()
	for _, w := range st.Workers {
		if w.RSS <= 0 || w.CPU < 0 {
			t.Fatalf("worker %d: RSS %d, CPU %.1f from its cgroup", w.PID, w.RSS, w.CPU)
		}
	}
	if _, stderr, code := m.Baton("stop"); code != 0 {
		t.Fatalf("stop: exit %d: %s", code, stderr)
	}
	m.Wait(30 * time.Second)
	e2etest.WaitFor(t, "no escaped process left", 10*time.Second, func() bool { return len(markerPIDs(marker)) == 0 })
	if _, err := os.Stat(cg); !os.IsNotExist(err) {
		t.Fatalf("cgroup %s is still there: %v", cg, err)
	}
}

// Item 5: the guardian, killed, is replaced by the master; then a kill -9
// of the master leaves nothing either: the new guardian kills the
// workers' cgroups, escaped processes included, and removes them.
func TestContainGuardianRestartAndMasterKill(t *testing.T) {
	marker := "baton-contain-kill-" + strconv.Itoa(os.Getpid())
	m, cg := startContained(t, "guarded", marker)
	workers := e2etest.PIDs(m.Status())
	first := guardianOf(m.Cmd.Process.Pid)
	if first == 0 {
		t.Fatal("no guardian process found")
	}
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var second int
	e2etest.WaitFor(t, "a new guardian", 10*time.Second, func() bool {
		second = guardianOf(m.Cmd.Process.Pid)
		return second != 0 && second != first
	})
	e2etest.WaitFor(t, "the master's log line", 5*time.Second, func() bool { return strings.Contains(m.Out.String(), "guardian died: starting a new one") })
	if err := m.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	m.Wait(10 * time.Second)
	e2etest.WaitFor(t, "workers and escaped processes gone", 10*time.Second, func() bool {
		for _, pid := range workers {
			if e2etest.Alive(pid) {
				return false
			}
		}
		return len(markerPIDs(marker)) == 0
	})
	e2etest.WaitFor(t, "the cgroup removed", 10*time.Second, func() bool {
		_, err := os.Stat(cg)
		return os.IsNotExist(err)
	})
	e2etest.WaitFor(t, "the guardian gone", 10*time.Second, func() bool { return !e2etest.Alive(second) })
}

// guardianOf finds the guardian process of the master pid: its child
// called baton-guard.
func guardianOf(master int) int {
	files, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || !strings.HasPrefix(string(b), "baton-guard\x00") {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		if e2etest.Alive(pid) && parentOf(pid) == master {
			return pid
		}
	}
	return 0
}

// parentOf reads pid's parent from /proc.
func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// Item 5, the fallback (no writable cgroup; forced here with
// BATON_CONTAINMENT=pgroup): the master is a subreaper, so processes
// that escaped by a double fork and setsid become its children: one that
// ends is reaped (no zombie) and reported; one still running is killed
// at stop.
func TestContainFallbackReapsAndKillsOrphans(t *testing.T) {
	t.Setenv("BATON_CONTAINMENT", "pgroup")
	marker := "baton-contain-orphan-" + strconv.Itoa(os.Getpid())
	t.Cleanup(func() { killMarked(marker) })
	script := e2etest.WriteScript(t, t.TempDir(), "orphans.sh", "#!/bin/sh\n"+
		"( setsid sh -c 'sleep 0.1; exit 3' short-"+marker+" & )\n"+
		"( setsid sh -c 'while :; do sleep 1; done' "+marker+" & )\n"+
		"exec "+e2etest.HelloBin+"\n")
	m := e2etest.StartMaster(t, 2, "--name", "orphans", "-w", "2", "-l", "127.0.0.1:0", "--", script)
	if c := m.Status().Master.Containment; c != "process group + subreaper" {
		t.Fatalf("containment %q with BATON_CONTAINMENT=pgroup", c)
	}
	master := m.Cmd.Process.Pid
	reaped := func() int {
		return strings.Count(m.Out.String(), `exit="exit status 3" killed_at_stop=false`)
	}
	e2etest.WaitFor(t, "2 orphans reaped and reported", 10*time.Second, func() bool { return reaped() == 2 })
	e2etest.WaitFor(t, "2 escaped loops, children of the master", 10*time.Second, func() bool {
		ps := markerPIDs(marker)
		return len(ps) == 2 && parentOf(ps[0]) == master && parentOf(ps[1]) == master
	})
	if z := zombiesOf(master); len(z) > 0 {
		t.Fatalf("zombie children of the master: %v", z)
	}
	if _, stderr, code := m.Baton("stop"); code != 0 {
		t.Fatalf("stop: exit %d: %s", code, stderr)
	}
	m.Wait(30 * time.Second)
	e2etest.WaitFor(t, "no escaped process left", 10*time.Second, func() bool { return len(markerPIDs(marker)) == 0 })
	if n := strings.Count(m.Out.String(), "killed_at_stop=true"); n < 2 {
		t.Fatalf("%d orphans reported killed at stop, want 2:\n%s", n, m.Out.String())
	}
}

// zombiesOf lists the zombie children of pid.
func zombiesOf(pid int) []int {
	files, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, f := range files {
		child, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		if parentOf(child) == pid && !e2etest.Alive(child) {
			out = append(out, child)
		}
	}
	return out
}
