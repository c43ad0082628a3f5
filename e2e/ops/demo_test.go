package ops

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
)

// `baton demo` runs the whole promise by itself and exits 0 only when no
// request failed and every event did what it should.
func TestDemoRunsAndReports(t *testing.T) {
	html := filepath.Join(t.TempDir(), "report.html")
	stdout, stderr, code := e2etest.RunBaton(t, append(os.Environ(), "XDG_RUNTIME_DIR="+e2etest.RuntimeDir(t)), "demo", "--duration", "6s", "--workers", "2", "--html", html)
	if code != 0 {
		t.Fatalf("baton demo: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"0 failed", "master upgrade", "broken deploy", "kill -9", "--proxy http rollout", "timeline", "baton demo: 0 failed requests"} {
		if !strings.Contains(stdout, want) {
			t.Fatalf("the demo's output lacks %q:\n%s", want, stdout)
		}
	}
	b, err := os.ReadFile(html)
	if err != nil || !strings.Contains(string(b), "<svg") || !strings.Contains(string(b), "master upgrade") {
		t.Fatalf("the HTML report: %v\n%.400s", err, b)
	}
	t.Logf("demo:\n%s", stdout)
}

// `baton demo | head -1`: the pipe closes under the demo, which must stop
// the masters it started rather than die of SIGPIPE and leave them running.
func TestDemoWhoseOutputClosesLeavesNothingRunning(t *testing.T) {
	tmp := e2etest.RuntimeDir(t) // the demo makes its directory in $TMPDIR
	t.Cleanup(func() { stopAll(processesMentioning(tmp)) })
	cmd := exec.Command(e2etest.BatonBin, "demo", "--duration", "30s", "--workers", "1")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "XDG_RUNTIME_DIR="+tmp)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	e2etest.WaitFor(t, "the demo's masters to start", 30*time.Second, func() bool { return len(processesMentioning(tmp)) >= 2 })
	out.Close()
	go func() { _ = cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the demo did not end after its output closed")
	}
	e2etest.WaitFor(t, "the demo's masters to exit", 30*time.Second, func() bool { return len(processesMentioning(tmp)) == 0 })
}

// processesMentioning lists the live processes whose command line holds s.
func processesMentioning(s string) []int {
	var out []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), s) && e2etest.Alive(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// stopAll sends SIGTERM to pids (masters stop their workers), then SIGKILL.
func stopAll(pids []int) {
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, pid := range pids {
		for e2etest.Alive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}
