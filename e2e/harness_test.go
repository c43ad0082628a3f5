package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/control"
	"github.com/batonhq/baton/internal/supervisor"
)

// syncBuffer collects a process's output from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// master is one running `baton run` under test.
type master struct {
	t      testing.TB
	cmd    *exec.Cmd
	out    *syncBuffer // stdout and stderr together
	env    []string    // environment for client commands
	ctl    *control.Client
	exited chan struct{}
	err    error // Wait's result, once exited
}

// runtimeDir is a short private XDG_RUNTIME_DIR (unix socket paths are
// limited to 107 bytes, and t.TempDir() paths can be long).
func runtimeDir(t testing.TB) string {
	dir, err := os.MkdirTemp("", "bt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// startMaster runs `baton run ARGS...` with a private control directory
// and waits until `ready` workers are ready.
func startMaster(t testing.TB, ready int, args ...string) *master {
	t.Helper()
	m := launch(t, args...)
	m.waitReady(ready, 20*time.Second)
	return m
}

// launch starts `baton run ARGS...` without waiting for workers.
func launch(t testing.TB, args ...string) *master {
	t.Helper()
	xdg := runtimeDir(t)
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+xdg)
	m := &master{t: t, out: &syncBuffer{}, env: env, exited: make(chan struct{})}
	m.cmd = exec.Command(batonBin, append([]string{"run"}, args...)...)
	m.cmd.Env = env
	m.cmd.Stdout, m.cmd.Stderr = m.out, m.out
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("start baton: %v", err)
	}
	go func() { m.err = m.cmd.Wait(); close(m.exited) }()
	t.Cleanup(m.kill)
	name := nameArg(args)
	m.ctl = control.NewClient(filepath.Join(xdg, "baton", name+".sock"))
	return m
}

func nameArg(args []string) string {
	for i, a := range args {
		if a == "--name" && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, "--name="); ok {
			return v
		}
	}
	panic("tests must pass --name")
}

// kill ends the master at the end of a test, gracefully if it can.
func (m *master) kill() {
	select {
	case <-m.exited:
		return
	default:
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(15 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.exited
	}
	if strings.Contains(m.out.String(), "WARNING: DATA RACE") {
		m.t.Errorf("the race detector fired in baton")
	}
	if m.t.Failed() {
		m.t.Logf("baton output:\n%s", m.out.String())
	}
}

// status fetches the master's status, failing the test on error.
func (m *master) status() supervisor.Status {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := m.ctl.Status(ctx)
	if err != nil {
		m.t.Fatalf("status: %v\n%s", err, m.out.String())
	}
	return st
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitReady waits until n workers are ready and none is starting or draining.
func (m *master) waitReady(n int, timeout time.Duration) supervisor.Status {
	m.t.Helper()
	var st supervisor.Status
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-m.exited:
			m.t.Fatalf("baton exited early (%v):\n%s", m.err, m.out.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		var err error
		st, err = m.ctl.Status(ctx)
		cancel()
		if err == nil && countState(st, supervisor.Ready) == n && len(st.Workers) == n {
			return st
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("timed out waiting for %d ready workers (last status %+v, err %v):\n%s", n, st.Workers, err, m.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countState(st supervisor.Status, state supervisor.State) int {
	n := 0
	for _, w := range st.Workers {
		if w.State == state {
			n++
		}
	}
	return n
}

// addr is the first socket's address.
func (m *master) addr() string {
	m.t.Helper()
	st := m.status()
	if len(st.Sockets) == 0 {
		m.t.Fatal("master has no sockets")
	}
	return st.Sockets[0].Address
}

// wait waits for the master to exit and returns its exit code.
func (m *master) wait(timeout time.Duration) int {
	m.t.Helper()
	select {
	case <-m.exited:
	case <-time.After(timeout):
		m.t.Fatalf("baton did not exit within %s:\n%s", timeout, m.out.String())
	}
	if strings.Contains(m.out.String(), "WARNING: DATA RACE") {
		m.t.Fatalf("the race detector fired in baton:\n%s", m.out.String())
	}
	var ee *exec.ExitError
	if errors.As(m.err, &ee) {
		return ee.ExitCode()
	}
	return 0
}

// baton runs a client command against m and returns stdout, stderr, code.
func (m *master) baton(args ...string) (string, string, int) {
	m.t.Helper()
	return runBaton(m.t, m.env, args...)
}

func runBaton(t testing.TB, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(batonBin, args...)
	cmd.Env = env
	return runCommand(t, cmd)
}

// runCommand runs cmd to its end and returns its stdout, stderr and exit
// code; a command that cannot be run at all fails the test.
func runCommand(t testing.TB, cmd *exec.Cmd) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", cmd.Args, err)
	}
	return stdout.String(), stderr.String(), code
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// pids of every worker in st.
func pids(st supervisor.Status) []int {
	out := make([]int, 0, len(st.Workers))
	for _, w := range st.Workers {
		out = append(out, w.PID)
	}
	return out
}

// writeScript writes an executable script into dir.
func writeScript(t testing.TB, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}
