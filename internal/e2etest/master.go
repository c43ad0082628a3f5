package e2etest

import (
	"bytes"
	"context"
	"errors"
	"io"
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

// SyncBuffer collects a process's output from several goroutines.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Master is one running `baton run` under test.
type Master struct {
	T      testing.TB
	Cmd    *exec.Cmd
	Out    *SyncBuffer // stdout and stderr together
	Env    []string    // environment for client commands
	Ctl    *control.Client
	Exited chan struct{} // closed once the process has exited
	Err    error         // Wait's result, once Exited is closed
}

// RuntimeDir is a short private XDG_RUNTIME_DIR (unix socket paths are
// limited to 107 bytes, and t.TempDir() paths can be long), removed at the
// end of the test. Every master a test starts gets one of its own, so
// masters of tests running at the same time (in other packages too) never
// share a control socket.
func RuntimeDir(t testing.TB) string {
	dir, err := os.MkdirTemp("", "bt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// StartMaster runs `baton run ARGS...` with a private control directory
// and waits until `ready` workers are ready.
func StartMaster(t testing.TB, ready int, args ...string) *Master {
	t.Helper()
	m := Launch(t, args...)
	m.WaitReady(ready, 20*time.Second)
	return m
}

// Launch starts `baton run ARGS...` without waiting for workers. ARGS must
// hold --name: the control socket is found by it.
func Launch(t testing.TB, args ...string) *Master {
	t.Helper()
	xdg := RuntimeDir(t)
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+xdg)
	cmd := exec.Command(BatonBin, append([]string{"run"}, args...)...)
	return StartCommand(t, cmd, env, nil, filepath.Join(xdg, "baton", FlagValue(args, "--name")+".sock"))
}

// StartCommand starts cmd, a `baton run` however it is wrapped, as a
// master: env is its environment and its client commands', its stdout and
// stderr go to out (m.Out when out is nil), and m.Ctl talks to the
// control socket ctlPath. It is stopped at the end of the test.
func StartCommand(t testing.TB, cmd *exec.Cmd, env []string, out io.Writer, ctlPath string) *Master {
	t.Helper()
	m := &Master{T: t, Cmd: cmd, Out: &SyncBuffer{}, Env: env, Exited: make(chan struct{})}
	if out == nil {
		out = m.Out
	}
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start baton: %v", err)
	}
	go func() { m.Err = cmd.Wait(); close(m.Exited) }()
	t.Cleanup(m.Stop)
	m.Ctl = control.NewClient(ctlPath)
	return m
}

// FlagValue is the value of flag ("--name", "--control") in args, given
// as "FLAG VALUE" or "FLAG=VALUE"; the test must pass it.
func FlagValue(args []string, flag string) string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v
		}
	}
	panic("tests must pass " + flag)
}

// Stop ends the master, gracefully if it can (SIGTERM, SIGKILL after 15
// s), and checks that it reported no data race; every test does at its end.
func (m *Master) Stop() {
	select {
	case <-m.Exited:
		return
	default:
	}
	_ = m.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.Exited:
	case <-time.After(15 * time.Second):
		_ = m.Cmd.Process.Kill()
		<-m.Exited
	}
	if strings.Contains(m.Out.String(), "WARNING: DATA RACE") {
		m.T.Errorf("the race detector fired in baton")
	}
	if m.T.Failed() {
		m.T.Logf("baton output:\n%s", m.Out.String())
	}
}

// Status fetches the master's status, failing the test on error.
func (m *Master) Status() supervisor.Status {
	m.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := m.Ctl.Status(ctx)
	if err != nil {
		m.T.Fatalf("status: %v\n%s", err, m.Out.String())
	}
	return st
}

// WaitReady waits until n workers are ready and none is starting or draining.
func (m *Master) WaitReady(n int, timeout time.Duration) supervisor.Status {
	m.T.Helper()
	var st supervisor.Status
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-m.Exited:
			m.T.Fatalf("baton exited early (%v):\n%s", m.Err, m.Out.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		var err error
		st, err = m.Ctl.Status(ctx)
		cancel()
		if err == nil && CountState(st, supervisor.Ready) == n && len(st.Workers) == n {
			return st
		}
		if time.Now().After(deadline) {
			m.T.Fatalf("timed out waiting for %d ready workers (last status %+v, err %v):\n%s", n, st.Workers, err, m.Out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Addr is the first socket's address.
func (m *Master) Addr() string {
	m.T.Helper()
	st := m.Status()
	if len(st.Sockets) == 0 {
		m.T.Fatal("master has no sockets")
	}
	return st.Sockets[0].Address
}

// Wait waits for the master to exit and returns its exit code.
func (m *Master) Wait(timeout time.Duration) int {
	m.T.Helper()
	select {
	case <-m.Exited:
	case <-time.After(timeout):
		m.T.Fatalf("baton did not exit within %s:\n%s", timeout, m.Out.String())
	}
	if strings.Contains(m.Out.String(), "WARNING: DATA RACE") {
		m.T.Fatalf("the race detector fired in baton:\n%s", m.Out.String())
	}
	var ee *exec.ExitError
	if errors.As(m.Err, &ee) {
		return ee.ExitCode()
	}
	return 0
}

// Baton runs a client command against m and returns stdout, stderr, code.
func (m *Master) Baton(args ...string) (string, string, int) {
	m.T.Helper()
	return RunBaton(m.T, m.Env, args...)
}

// Reload runs one rollout through the control socket and wants it done.
func (m *Master) Reload(strategy string) supervisor.RolloutStatus {
	m.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := m.Ctl.Reload(ctx, strategy, nil)
	if err != nil {
		m.T.Fatalf("reload: %v\n%s", err, m.Out.String())
	}
	if st.State != supervisor.RolloutDone {
		m.T.Fatalf("rollout %d %s: %s %v", st.ID, st.State, st.Error, st.Output)
	}
	return st
}
