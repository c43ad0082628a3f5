package ops

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/control"
	"github.com/batonhq/baton/internal/e2etest"
	"github.com/batonhq/baton/internal/supervisor"
)

// As a container's PID 1 (here: a new PID namespace), baton reaps the
// orphans that become its children, keeps running across `baton upgrade`
// (the old master's exit ends nothing), and passes SIGTERM on to the
// master that serves then, exiting with its status.
func TestBatonAsPID1ReapsOrphansAndFollowsUpgrades(t *testing.T) {
	unshare, err := exec.LookPath("unshare")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("needs root and unshare (Debian's util-linux) to make a PID namespace")
	}
	dir := e2etest.RuntimeDir(t)
	// The worker leaves an orphan behind: a sleep whose parent exits at once.
	worker := e2etest.WriteScript(t, dir, "orphaning", "#!/bin/sh\n(sleep 1 &)\nexec "+e2etest.HelloBin+"\n")
	ctl := filepath.Join(dir, "c.sock")
	out := &e2etest.SyncBuffer{}
	cmd := exec.Command(unshare, "--pid", "--fork", "--kill-child", "--mount-proc", e2etest.BatonBin, "run", "--control", ctl, "-w", "1", "-l", "127.0.0.1:0", "--", worker)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+dir, "GORACE=atexit_sleep_ms=0")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("output:\n%s", out)
		}
	})
	var init int
	e2etest.WaitFor(t, "baton as PID 1", 20*time.Second, func() bool {
		kids := childrenOf(cmd.Process.Pid)
		if len(kids) == 1 {
			init = kids[0]
		}
		return init != 0
	})
	cl := control.NewClient(ctl)
	e2etest.WaitFor(t, "a ready worker", 30*time.Second, func() bool {
		st, err := cl.Status(t.Context())
		return err == nil && e2etest.CountState(st, supervisor.Ready) == 1
	})
	e2etest.WaitFor(t, "the orphan reparented to PID 1", 20*time.Second, func() bool { return hasChild(init, "sleep") })
	e2etest.WaitFor(t, "the orphan reaped (no zombie left)", 20*time.Second, func() bool { return !hasChild(init, "sleep") })
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+dir)
	if stdout, stderr, code := e2etest.RunBaton(t, env, "upgrade", "--control", ctl); code != 0 {
		t.Fatalf("upgrade under PID 1: exit %d\n%s%s", code, stdout, stderr)
	}
	e2etest.WaitFor(t, "the old master gone, the new one reparented to PID 1", 30*time.Second, func() bool {
		st, err := cl.Status(t.Context())
		return err == nil && st.Master.HandingOver == 0 && len(childrenOf(init)) >= 1
	})
	select {
	case err := <-exited:
		t.Fatalf("PID 1 exited with the old master: %v", err)
	default:
	}
	if err := syscall.Kill(init, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("after SIGTERM: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("SIGTERM to PID 1 did not stop the new master")
	}
}

// childrenOf lists pid's children (of its main thread).
func childrenOf(pid int) []int {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + strconv.Itoa(pid) + "/children")
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// hasChild says whether pid has a child (running or a zombie) named comm.
func hasChild(pid int, comm string) bool {
	for _, c := range childrenOf(pid) {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(c) + "/comm")
		if strings.TrimSpace(string(b)) == comm {
			return true
		}
	}
	return false
}
