package ops

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
)

// `baton logs -f` shows a line a worker printed after the command began;
// -n bounds what is printed; --worker selects one slot.
func TestLogsFollowShowsNewWorkerLines(t *testing.T) {
	m := e2etest.StartMaster(t, 2, "--name", "logs", "-w", "2", "--log-lines", "50", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	out := &e2etest.SyncBuffer{}
	follow := exec.Command(e2etest.BatonBin, "logs", "-f", "-n", "1", "--worker", "1", "--control", m.Ctl.Path)
	follow.Env, follow.Stdout, follow.Stderr = m.Env, out, out
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = follow.Process.Kill(); _ = follow.Wait() })
	e2etest.WaitFor(t, "the kept line", 20*time.Second, func() bool { return strings.Count(out.String(), "\n") >= 1 })
	m.Reload("")
	var slot1 int
	for _, w := range m.Status().Workers {
		if w.Slot == 1 {
			slot1 = w.PID
		}
	}
	want := fmt.Sprintf("[slot 1 pid %d] ", slot1)
	e2etest.WaitFor(t, "the new worker's line in baton logs -f", 20*time.Second, func() bool { return strings.Contains(out.String(), want) })
	if strings.Contains(out.String(), "[slot 0 ") {
		t.Fatalf("--worker 1 printed slot 0's lines:\n%s", out)
	}
	stdout, _, code := m.Baton("logs", "-n", "3")
	if code != 0 || strings.Count(stdout, "\n") != 3 {
		t.Fatalf("logs -n 3: exit %d, %d lines:\n%s", code, strings.Count(stdout, "\n"), stdout)
	}
	stdout, _, _ = m.Baton("logs", "-n", "1000")
	if n := strings.Count(stdout, "\n"); n > 50 || n < 10 {
		t.Fatalf("logs -n 1000 with --log-lines 50: %d lines", n)
	}
}

// status shows each worker's memory and CPU from /proc; `baton top`
// redraws it until interrupted.
func TestStatusShowsUsageAndTopRedraws(t *testing.T) {
	m := e2etest.StartMaster(t, 2, "--name", "top", "-w", "2", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	for _, w := range m.Status().Workers {
		if w.RSS < 1<<20 || w.CPU < 0 {
			t.Fatalf("worker %d: rss %d bytes, cpu %.1f%%", w.Slot, w.RSS, w.CPU)
		}
	}
	out := &e2etest.SyncBuffer{}
	top := exec.Command(e2etest.BatonBin, "top", "--interval", "50ms", "--control", m.Ctl.Path)
	top.Env, top.Stdout, top.Stderr = m.Env, out, out
	if err := top.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = top.Process.Kill(); _ = top.Wait() })
	e2etest.WaitFor(t, "three redraws", 20*time.Second, func() bool { return strings.Count(out.String(), "RSS") >= 3 })
	if err := top.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := top.Wait(); err != nil {
		t.Fatalf("baton top after SIGINT: %v\n%s", err, out)
	}
}
