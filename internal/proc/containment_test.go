package proc

import (
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestCgroupPathsFromMountinfo(t *testing.T) {
	if got := below("/docker/abc/sub", "/docker/abc"); got != "/sub" {
		t.Fatalf("below: %q", got)
	}
	if got := below("/docker/abc", "/docker/abc"); got != "/" {
		t.Fatalf("below: %q", got)
	}
	if got := unescapeMount(`/sys/fs/cgroup/a\040b`); got != "/sys/fs/cgroup/a b" {
		t.Fatalf("unescape: %q", got)
	}
	if !hasOption("rw,memory", "memory") || hasOption("rw,memoryx", "memory") {
		t.Fatal("hasOption")
	}
	v2, _, err := findHierarchies()
	if err != nil {
		t.Fatal(err)
	}
	if v2.mount != "" {
		if _, err := os.Stat(filepath.Join(v2.dir(), "cgroup.procs")); err != nil {
			t.Fatalf("own cgroup %s: %v", v2.dir(), err)
		}
	}
}

// contained sets up cgroup containment or skips.
func contained(t *testing.T) *Containment {
	t.Helper()
	c := Contain("proctest", "", NewSpawner(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if c.Cgroup() == "" {
		c.Close()
		t.Skipf("no writable cgroup v2 here (%s)", c)
	}
	t.Cleanup(c.Close)
	return c
}

// A worker in a cgroup: what left its process group is found, reported
// and killed when the main process exits; its cgroup is then removed;
// usage comes from the cgroup.
func TestLaunchInCgroupKillsEscapedAtExit(t *testing.T) {
	c := contained(t)
	o := newOS(t)
	o.Contain = c
	marker := "baton-cg-" + strconv.Itoa(os.Getpid())
	defer killByMarker(marker)
	flag := filepath.Join(o.NotifyDir, "escaped")
	script := "setsid sh -c 'touch " + flag + "; sleep 300; : " + marker + "' & while [ ! -e " + flag + " ]; do sleep 0.01; done; exec sleep 1"
	p, _, exits := launch(t, o, Launch{ID: 7, Command: []string{"sh", "-c", script}})
	cg := filepath.Join(c.Cgroup(), "w7")
	if b, _ := os.ReadFile("/proc/" + strconv.Itoa(p.PID()) + "/cgroup"); !strings.Contains(string(b), "/w7") {
		t.Fatalf("worker not in its cgroup: %s", b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for { // 0 while the worker is between two execs
		u, err := c.ReadUsage(p.PID())
		if err == nil && u.RSS > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("usage %+v, %v", u, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	e := waitExit(t, exits)
	if e.Code != 0 || e.Orphans != 2 || !e.OrphansKilled {
		t.Fatalf("exit %+v, want status 0 and 2 orphans killed", e)
	}
	if _, err := os.Stat(cg); !os.IsNotExist(err) {
		t.Fatalf("cgroup %s left: %v", cg, err)
	}
}

// The guardian, killed, is replaced and told every watched group again:
// the replacement kills the group and its cgroup at the end.
func TestGuardianIsReplacedAndStillKills(t *testing.T) {
	c := contained(t)
	sp := NewSpawner()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	g, err := StartGuardian(sp, self, c.Parents(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	w, err := c.newWorker(1)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sleep", "1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	w.sysProcAttr(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	w.started(cmd.Process.Pid)
	g.Watch(cmd.Process.Pid, w.path)
	first := g.PID()
	_ = syscall.Kill(first, syscall.SIGKILL)
	deadline := time.Now().Add(10 * time.Second)
	for g.PID() == first {
		if time.Now().After(deadline) {
			t.Fatal("the guardian was not replaced")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the watched process survived the replaced guardian")
	}
	if _, err := os.Stat(w.path); !os.IsNotExist(err) {
		t.Fatalf("cgroup %s left by the guardian: %v", w.path, err)
	}
}

func TestChildrenListsOnlyThisProcessChildren(t *testing.T) {
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	for _, list := range [][]int{Children(os.Getpid()), childrenByScan(os.Getpid())} {
		found := false
		for _, pid := range list {
			found = found || pid == cmd.Process.Pid
			if pid == os.Getpid() || pid == 1 {
				t.Fatalf("%d listed as a child", pid)
			}
		}
		if !found {
			t.Fatalf("child %d missing from %v", cmd.Process.Pid, list)
		}
	}
	if d := Descendants(os.Getpid()); d[0] != os.Getpid() || !slices.Contains(d, cmd.Process.Pid) {
		t.Fatalf("Descendants(self) = %v, want self first and child %d", d, cmd.Process.Pid)
	}
	if state, pgid, comm, ok := procStat(cmd.Process.Pid); !ok || state == 'Z' || pgid != syscall.Getpgrp() || comm != "sleep" {
		t.Fatalf("procStat: %c %d %q %v", state, pgid, comm, ok)
	}
}
