package ops

// Tests of issue 9 (hardening): each reproduces one defect that a hostile
// test of baton found, with real processes, sockets and signals, and
// fails against the behaviour before the fix.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
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

// hardeningClientTimeout bounds every client command these tests run: a
// command that hangs (the defect of issue 9 item 8) fails the test rather
// than the whole run.
const hardeningClientTimeout = 30 * time.Second

// hardLaunch starts `BIN run ARGS...` with a private XDG_RUNTIME_DIR and its
// stdout and stderr on out (m.Out when out is nil). ARGS must hold
// --control PATH: m.Ctl talks to it.
func hardLaunch(t *testing.T, bin string, out io.Writer, args ...string) *e2etest.Master {
	t.Helper()
	return hardStart(t, exec.Command(bin, append([]string{"run"}, args...)...), out, e2etest.FlagValue(args, "--control"))
}

// hardLaunchGated starts `baton run ARGS...` behind a gate: a shell that
// execs baton once the returned gate is closed. Closing the gates of
// several masters one after the other starts them at the same instant.
func hardLaunchGated(t *testing.T, args ...string) (*e2etest.Master, io.Closer) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	cmd := exec.Command("sh", append([]string{"-c", `read _ || :; exec "$0" run "$@"`, e2etest.BatonBin}, args...)...)
	cmd.Stdin = r
	m := hardStart(t, cmd, nil, e2etest.FlagValue(args, "--control"))
	r.Close()
	return m, w
}

// hardStart starts cmd as a master with a private XDG_RUNTIME_DIR and the
// control socket ctl.
func hardStart(t *testing.T, cmd *exec.Cmd, out io.Writer, ctl string) *e2etest.Master {
	t.Helper()
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+e2etest.RuntimeDir(t))
	return e2etest.StartCommand(t, cmd, env, out, ctl)
}

// hardControl is a control socket path that fits a unix address.
func hardControl(t *testing.T) string {
	return filepath.Join(e2etest.RuntimeDir(t), "c.sock")
}

// hardEnv is the environment of a client command with its own runtime dir.
func hardEnv(t *testing.T) []string {
	return append(os.Environ(), "XDG_RUNTIME_DIR="+e2etest.RuntimeDir(t))
}

// hardRun runs `baton ARGS...` and fails the test if it has not
// finished within timeout; it returns stdout, stderr, the exit code and
// how long it took.
func hardRun(t *testing.T, env []string, timeout time.Duration, args ...string) (string, string, int, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e2etest.BatonBin, args...)
	cmd.Env = hardQuickExit(env)
	cmd.WaitDelay = 5 * time.Second // do not wait for children holding the output
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if ctx.Err() != nil {
		t.Fatalf("baton %s did not finish within %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), timeout, &stdout, &stderr)
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run baton %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code, took
}

// hardQuickExit is env for a client command without the race runtime's
// one-second sleep at exit (GORACE atexit_sleep_ms): a client reports a
// race as it happens, and these tests run a good many client commands.
func hardQuickExit(env []string) []string {
	gorace := "atexit_sleep_ms=0"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GORACE="); ok && v != "" {
			gorace = v + " " + gorace
		}
	}
	return append(env[:len(env):len(env)], "GORACE="+gorace)
}

// hardStatus runs `baton status --json --control ctl` and decodes it.
func hardStatus(t *testing.T, env []string, ctl string) supervisor.Status {
	t.Helper()
	stdout, stderr, code, _ := hardRun(t, env, hardeningClientTimeout, "status", "--json", "--control", ctl)
	if code != 0 {
		t.Fatalf("baton status --json: exit %d: %s", code, stderr)
	}
	var st supervisor.Status
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatalf("status JSON: %v\n%s", err, stdout)
	}
	if st.Master == nil {
		t.Fatalf("status JSON has no master section:\n%s", stdout)
	}
	return st
}

// hardReload runs `baton reload` against m and fails the test unless it
// succeeds.
func hardReload(t *testing.T, m *e2etest.Master) {
	t.Helper()
	stdout, stderr, code, _ := hardRun(t, m.Env, hardeningClientTimeout, "reload", "--control", m.Ctl.Path)
	if code != 0 {
		t.Fatalf("baton reload: exit %d\nstdout: %s\nstderr: %s\nmaster:\n%s", code, stdout, stderr, m.Out.String())
	}
}

// Item 1: the master must outlive whatever reads its output.
func TestHardeningMasterSurvivesItsOutputReaderGoingAway(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ctl := hardControl(t)
	m := hardLaunch(t, e2etest.BatonBin, w, "--name", "sigpipe", "--control", ctl, "-w", "2", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	w.Close()
	// Read the first bytes the master writes, then go away, as `| head -1`
	// or a restarted log shipper does.
	first := make([]byte, 32)
	_ = r.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(r, first); err != nil {
		t.Fatalf("read the master's first output: %v", err)
	}
	r.Close()
	m.WaitReady(2, 20*time.Second)
	// Everything the master writes now goes to a closed pipe: the
	// rollout's log lines and the new workers' output.
	hardReload(t, m)
	m.WaitReady(2, 20*time.Second)
	var st supervisor.Status
	e2etest.WaitFor(t, "status to count lost output", 10*time.Second, func() bool {
		st = hardStatus(t, m.Env, ctl)
		return st.Master.OutputLost > 0
	})
	t.Logf("output writes lost: %d", st.Master.OutputLost)
	select {
	case <-m.Exited:
		t.Fatalf("the master exited after its reader went away: %v", m.Err)
	default:
	}
	if _, err := e2etest.OneShotGet(m.Addr()); err != nil {
		t.Fatalf("the master no longer serves after its reader went away: %v", err)
	}
	if stdout, stderr, code, _ := hardRun(t, m.Env, hardeningClientTimeout, "status", "--control", ctl); code != 0 {
		t.Fatalf("baton status: exit %d\n%s%s", code, stdout, stderr)
	}
}

// Item 2: --control and --pidfile never delete what is at their path.
func TestHardeningControlAndPidfileLeaveUsersFilesAlone(t *testing.T) {
	env := hardEnv(t)
	base := e2etest.RuntimeDir(t)
	run := func(t *testing.T, flag, path, pidfile string) (string, int) {
		t.Helper()
		args := []string{"run", "--name", "keep", "-w", "1", "-l", "127.0.0.1:0"}
		if flag == "--control" {
			args = append(args, "--control", path)
		} else {
			args = append(args, "--control", filepath.Join(base, "ok.sock"), "--pidfile", pidfile)
		}
		_, stderr, code, _ := hardRun(t, env, hardeningClientTimeout, append(args, "--", e2etest.HelloBin)...)
		if code == 0 {
			t.Fatalf("baton run %s %s: exit 0, want a refusal", flag, path)
		}
		if !strings.Contains(stderr, flag) {
			t.Fatalf("baton run %s %s: exit %d, the message does not name %s: %s", flag, path, code, flag, stderr)
		}
		return stderr, code
	}
	t.Run("control at a regular file", func(t *testing.T) {
		file := filepath.Join(base, "precious.txt")
		if err := os.WriteFile(file, []byte("do not delete me\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		stderr, code := run(t, "--control", file, "")
		t.Logf("exit %d: %s", code, stderr)
		if b, err := os.ReadFile(file); err != nil || string(b) != "do not delete me\n" {
			t.Fatalf("the file at --control was changed: %q %v", b, err)
		}
	})
	t.Run("control at an empty directory", func(t *testing.T) {
		dir := filepath.Join(base, "emptydir")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		stderr, code := run(t, "--control", dir, "")
		t.Logf("exit %d: %s", code, stderr)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			t.Fatalf("the directory at --control is gone: %v", err)
		}
	})
	t.Run("pidfile at a directory", func(t *testing.T) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "run")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		stderr, code := run(t, "--pidfile", dir, dir)
		t.Logf("exit %d: %s", code, stderr)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			t.Fatalf("the directory at --pidfile is gone: %v", err)
		}
		entries, err := os.ReadDir(parent)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != "run" {
				t.Fatalf("baton left %s beside the refused pidfile", e.Name())
			}
		}
	})
}

// Item 3: a worker that shuts the shared listening socket down takes the
// port down only until the master notices and listens on it again.
func TestHardeningMasterHealsASocketAWorkerShutDown(t *testing.T) {
	script, err := filepath.Abs("testdata/hardening/shutsock.py")
	if err != nil {
		t.Fatal(err)
	}
	ctl := hardControl(t)
	m := hardLaunch(t, e2etest.BatonBin, nil, "--name", "heal", "--control", ctl, "-w", "2", "-l", "127.0.0.1:0",
		"--stop-timeout", "10s", "--", script)
	m.WaitReady(2, 20*time.Second)
	addr := m.Addr()
	if _, err := e2etest.OneShotGet(addr); err != nil {
		t.Fatalf("before the reload: %v", err)
	}
	// Each old worker shuts the socket down as it drains.
	hardReload(t, m)
	m.WaitReady(2, 20*time.Second)
	e2etest.WaitFor(t, "requests to succeed again after the workers shut the socket down", 15*time.Second, func() bool {
		_, err := e2etest.OneShotGet(addr)
		return err == nil
	})
	if st := hardStatus(t, m.Env, ctl); st.Master.SocketsHealed < 1 {
		t.Fatalf("status: sockets_healed = %d, want >= 1", st.Master.SocketsHealed)
	}
	e2etest.WaitFor(t, "the heal in the master's log", 5*time.Second, func() bool {
		return strings.Contains(m.Out.String(), "listening on it again")
	})
	// And it keeps serving: several requests in a row.
	for i := 0; i < 20; i++ {
		if _, err := e2etest.OneShotGet(addr); err != nil {
			t.Fatalf("request %d after the heal: %v", i, err)
		}
	}
}

// Item 4: workers start even when the path baton was started from is gone.
func TestHardeningWorkersStartAfterTheBinaryPathIsRemoved(t *testing.T) {
	dir, err := os.MkdirTemp("", "baton-release-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "baton")
	hardCopy(t, e2etest.BatonBin, bin)
	ctl := hardControl(t)
	m := hardLaunch(t, bin, nil, "--name", "gone", "--control", ctl, "-w", "2", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	before := e2etest.PIDs(m.WaitReady(2, 20*time.Second))
	// The versioned release directory is removed after a deploy.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); !os.IsNotExist(err) {
		t.Fatalf("%s still exists: %v", bin, err)
	}
	hardReload(t, m)
	st := m.WaitReady(2, 20*time.Second)
	for _, w := range st.Workers {
		for _, old := range before {
			if w.PID == old {
				t.Fatalf("worker %d survived the reload: %+v", old, st.Workers)
			}
		}
	}
	body, err := e2etest.OneShotGet(m.Addr())
	if err != nil {
		t.Fatalf("the new workers do not serve: %v", err)
	}
	var r e2etest.HelloReply
	if err := json.Unmarshal(body, &r); err != nil || (r.PID != st.Workers[0].PID && r.PID != st.Workers[1].PID) {
		t.Fatalf("answer %q does not come from a new worker %v", body, e2etest.PIDs(st))
	}
}

func hardCopy(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// Item 5: the notify socket paths fit a unix address whatever the name.
func TestHardeningLongNameSurvivesManyReloads(t *testing.T) {
	name := strings.Repeat("n", 100)
	ctl := hardControl(t)
	m := hardLaunch(t, e2etest.BatonBin, nil, "--name", name, "--control", ctl, "-w", "2", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	m.WaitReady(2, 20*time.Second)
	for i := 1; i <= 6; i++ {
		hardReload(t, m)
		st := m.WaitReady(2, 20*time.Second)
		if st.Generation != i+1 {
			t.Fatalf("after reload %d: generation %d, want %d", i, st.Generation, i+1)
		}
	}
	if _, err := e2etest.OneShotGet(m.Addr()); err != nil {
		t.Fatalf("after 6 reloads: %v", err)
	}
}

// Item 6: a fixed readiness delay that the ready timeout cuts short is
// refused by check and run alike.
func TestHardeningReadyDelayNotShorterThanTimeoutIsRefused(t *testing.T) {
	env := hardEnv(t)
	flags := []string{"--name", "slowready", "-l", "127.0.0.1:0", "--ready", "delay:2s", "--ready-timeout", "1s", "--", e2etest.HelloBin}
	for _, tc := range []struct {
		cmd  string
		code int
	}{{"check", 1}, {"run", 2}} {
		_, stderr, code, _ := hardRun(t, env, hardeningClientTimeout, append([]string{tc.cmd}, flags...)...)
		if code != tc.code || !strings.Contains(stderr, "ready-timeout") {
			t.Fatalf("baton %s: exit %d, want %d and a message about --ready-timeout: %s", tc.cmd, code, tc.code, stderr)
		}
	}
}

// Item 7: two masters started at the same instant on one control path:
// one runs, the other is refused, and the loser's exit leaves the
// winner's socket in place; a master that exits removes only the socket
// it created.
func TestHardeningTwoMastersOnOneControlPath(t *testing.T) {
	ctl := hardControl(t)
	args := []string{"--name", "twin", "--control", ctl, "-w", "1", "-l", "127.0.0.1:0", "--", e2etest.HelloBin}
	a, gateA := hardLaunchGated(t, args...)
	b, gateB := hardLaunchGated(t, args...)
	gateA.Close()
	gateB.Close()
	var winner, loser *e2etest.Master
	select {
	case <-a.Exited:
		winner, loser = b, a
	case <-b.Exited:
		winner, loser = a, b
	case <-time.After(20 * time.Second):
		t.Fatalf("neither master exited: both run on %s\nfirst:\n%s\nsecond:\n%s", ctl, a.Out.String(), b.Out.String())
	}
	if code := loser.Wait(5 * time.Second); code == 0 || !strings.Contains(loser.Out.String(), "another master") {
		t.Fatalf("the second master: exit %d, want non-zero and \"another master\":\n%s", code, loser.Out.String())
	}
	t.Logf("refused: %s", strings.TrimSpace(loser.Out.String()))
	st := winner.WaitReady(1, 20*time.Second)
	if st.PID != winner.Cmd.Process.Pid {
		t.Fatalf("status answered by pid %d, want the running master %d", st.PID, winner.Cmd.Process.Pid)
	}
	if fi, err := os.Lstat(ctl); err != nil || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("the winner's control socket is gone after the loser exited: %v %v", fi, err)
	}
	stdout, stderr, code, _ := hardRun(t, winner.Env, hardeningClientTimeout, "status", "--control", ctl)
	if code != 0 || !strings.Contains(stdout, "pid "+strconv.Itoa(winner.Cmd.Process.Pid)) {
		t.Fatalf("baton status --control: exit %d\n%s%s", code, stdout, stderr)
	}

	// A cleaner of temporary files removes the running master's socket
	// and lock file, and a third master takes the path. When the first
	// one exits it must remove only what it created: the third master
	// stays reachable and keeps its name.
	for _, p := range []string{ctl, control.LockPath(ctl)} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	third := hardLaunch(t, e2etest.BatonBin, nil, args...)
	third.WaitReady(1, 20*time.Second)
	_ = winner.Cmd.Process.Signal(syscall.SIGTERM)
	if code := winner.Wait(20 * time.Second); code != 0 {
		t.Fatalf("the first master exited %d on SIGTERM", code)
	}
	stdout, stderr, code, _ = hardRun(t, third.Env, hardeningClientTimeout, "status", "--control", ctl)
	if code != 0 || !strings.Contains(stdout, "pid "+strconv.Itoa(third.Cmd.Process.Pid)) {
		t.Fatalf("the master that took the path over is unreachable after the first one exited: exit %d\n%s%s", code, stdout, stderr)
	}
	fourth := hardLaunch(t, e2etest.BatonBin, nil, args...)
	if code := fourth.Wait(20 * time.Second); code == 0 || !strings.Contains(fourth.Out.String(), "another master") {
		t.Fatalf("a fourth master on the path of a running one: exit %d, want non-zero and \"another master\":\n%s", code, fourth.Out.String())
	}
}

// Item 8: `baton stop` returns when the master has exited, even when the
// master's parent never reaps it (it stays a zombie).
func TestHardeningStopReturnsWhenTheMasterIsNotReaped(t *testing.T) {
	ctl := hardControl(t)
	env := hardEnv(t)
	out := &e2etest.SyncBuffer{}
	// sh starts baton in the background and becomes sleep, which never
	// calls wait: the master's parent does not reap it.
	parent := exec.Command("sh", "-c", `"$0" run "$@" & exec sleep 1000`, e2etest.BatonBin,
		"--name", "unreaped", "--control", ctl, "-w", "2", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	parent.Env = env
	parent.Stdout, parent.Stderr = out, out
	parent.WaitDelay = 5 * time.Second
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	masterPID := 0
	t.Cleanup(func() {
		if masterPID != 0 && e2etest.Alive(masterPID) {
			_ = syscall.Kill(masterPID, syscall.SIGKILL)
		}
		_ = parent.Process.Kill()
		_ = parent.Wait()
		if t.Failed() {
			t.Logf("baton output:\n%s", out.String())
		}
	})
	m := &e2etest.Master{T: t, Out: out, Env: env, Ctl: control.NewClient(ctl), Exited: make(chan struct{})}
	st := m.WaitReady(2, 20*time.Second)
	masterPID = st.PID
	if ppid := hardParentPID(t, masterPID); ppid != parent.Process.Pid {
		t.Fatalf("the master's parent is %d, want the non-reaping sleep %d", ppid, parent.Process.Pid)
	}
	workers := e2etest.PIDs(st)
	stdout, stderr, code, took := hardRun(t, env, 20*time.Second, "stop", "--control", ctl)
	if code != 0 {
		t.Fatalf("baton stop: exit %d after %s\n%s%s", code, took, stdout, stderr)
	}
	t.Logf("baton stop returned after %s", took)
	e2etest.WaitFor(t, "the workers to be gone", 10*time.Second, func() bool {
		for _, p := range workers {
			if e2etest.Alive(p) {
				return false
			}
		}
		return true
	})
	e2etest.WaitFor(t, "the master to have exited (a zombie)", 10*time.Second, func() bool { return !e2etest.Alive(masterPID) })
	if strings.Contains(out.String(), "WARNING: DATA RACE") {
		t.Fatalf("the race detector fired in baton")
	}
}

// hardParentPID reads pid's parent from /proc.
func hardParentPID(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return ppid
}

// Item 8: a master stopped with SIGSTOP makes `baton status` fail after
// its answer timeout, not hang.
func TestHardeningStatusOfAStoppedMasterTimesOut(t *testing.T) {
	ctl := hardControl(t)
	m := hardLaunch(t, e2etest.BatonBin, nil, "--name", "frozen", "--control", ctl, "-w", "1", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	m.WaitReady(1, 20*time.Second)
	pid := m.Cmd.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	t.Cleanup(func() {
		if !resumed {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	})
	_, stderr, code, took := hardRun(t, m.Env, hardeningClientTimeout, "status", "--control", ctl, "--answer-timeout", "1s")
	if code != 1 || !strings.Contains(stderr, "did not answer") {
		t.Fatalf("baton status of a stopped master: exit %d after %s, want 1 and \"did not answer\": %s", code, took, stderr)
	}
	if took > 15*time.Second {
		t.Fatalf("baton status took %s with --answer-timeout 1s", took)
	}
	t.Logf("after %s: %s", took, strings.TrimSpace(stderr))
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed = true
	if _, stderr, code, _ := hardRun(t, m.Env, hardeningClientTimeout, "status", "--control", ctl); code != 0 {
		t.Fatalf("baton status after SIGCONT: exit %d: %s", code, stderr)
	}
}

// Item 10: a worker that daemonizes leaves a process behind per respawn;
// the master reports it and does not keep two descriptors for each.
func TestHardeningDaemonizingWorkerDoesNotPinMasterFDs(t *testing.T) {
	script, err := filepath.Abs("testdata/hardening/daemonize.sh")
	if err != nil {
		t.Fatal(err)
	}
	escaped := t.TempDir()
	t.Cleanup(func() { hardKillEscaped(escaped) })
	ctl := hardControl(t)
	m := hardLaunch(t, e2etest.BatonBin, nil, "--name", "daemon", "--control", ctl, "-w", "1", "-l", "127.0.0.1:0",
		"--env", "ESCAPED="+escaped, "--", script)
	pid := m.Cmd.Process.Pid
	reports := func() int { return strings.Count(m.Out.String(), "left processes behind") }
	// Sample right after a report: the slot is then waiting out its crash
	// backoff (100ms, 200ms, ...), with no worker alive.
	e2etest.WaitFor(t, "the second report of processes left behind", 20*time.Second, func() bool { return reports() >= 2 })
	before := hardCountFDs(t, pid)
	const respawns = 5
	e2etest.WaitFor(t, "5 more respawns", 30*time.Second, func() bool { return reports() >= 2+respawns })
	after := hardCountFDs(t, pid)
	t.Logf("master fds: %d after report 2, %d after report %d; %d processes escaped", before, after, reports(), len(hardEscapedPIDs(escaped)))
	if n := len(hardEscapedPIDs(escaped)); n < 2+respawns {
		t.Fatalf("only %d processes escaped, want %d", n, 2+respawns)
	}
	// Before the fix each escaped process pinned the master's two pipe
	// ends: +10 over 5 respawns.
	if after-before >= respawns {
		t.Fatalf("the master's open fds grew from %d to %d over %d respawns of a daemonizing worker", before, after, respawns)
	}
}

// hardCountFDs counts the open descriptors of pid.
func hardCountFDs(t *testing.T, pid int) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// hardEscapedPIDs lists the pids daemonize.sh recorded in dir.
func hardEscapedPIDs(dir string) []int {
	files, _ := filepath.Glob(filepath.Join(dir, "*.pid"))
	var out []int
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// hardKillEscaped kills the processes daemonize.sh left behind (checking that
// each pid is still one of them: `sleep 1001`).
func hardKillEscaped(dir string) {
	for _, pid := range hardEscapedPIDs(dir) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil || string(b) != "sleep\x001001\x00" {
			continue
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// Item 9 (run-time failures): a master that cannot bind its address fails
// at run time: exit 1, not the usage error 2, naming the address.
func TestHardeningAddressInUseExits1(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	env := hardEnv(t)
	_, stderr, code, _ := hardRun(t, env, hardeningClientTimeout, "run", "--name", "busy", "--control", hardControl(t),
		"-w", "1", "-l", addr, "--", e2etest.HelloBin)
	if code != 1 || !strings.Contains(stderr, addr) {
		t.Fatalf("baton run on a busy address: exit %d, want 1 and a line naming %s: %s", code, addr, stderr)
	}
}

// Item 9: `baton check` refuses what `baton run` refuses, from one
// validation: check exits 1, run 2 (a usage error, not a failure to bind
// blamed on "another process").
func TestHardeningCheckRefusesWhatRunRefuses(t *testing.T) {
	env := hardEnv(t)
	missing := filepath.Join(t.TempDir(), "nosuchdir")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String() // a port that was free a moment ago
	l.Close()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"the same address twice", []string{"-l", addr, "-l", addr}, "given twice"},
		{"a pidfile in a missing directory", []string{"-l", "127.0.0.1:0", "--pidfile", filepath.Join(missing, "baton.pid")}, "does not exist"},
	} {
		for _, c := range []struct {
			cmd  string
			code int
		}{{"check", 1}, {"run", 2}} {
			args := append([]string{c.cmd, "--name", "twice", "--control", hardControl(t)}, tc.args...)
			_, stderr, code, _ := hardRun(t, env, hardeningClientTimeout, append(args, "--", e2etest.HelloBin)...)
			if code != c.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("%s: baton %s: exit %d, want %d and %q: %s", tc.name, c.cmd, code, c.code, tc.want, stderr)
			}
		}
	}
}

// Item 12: `baton scale -1` is a bad worker count, not an unknown flag.
func TestHardeningScaleNegativeIsAUsageError(t *testing.T) {
	_, stderr, code, _ := hardRun(t, hardEnv(t), hardeningClientTimeout, "scale", "-1")
	if code != 2 || !strings.Contains(stderr, `"-1" is not a worker count`) {
		t.Fatalf("baton scale -1: exit %d, want 2 and `\"-1\" is not a worker count`: %s", code, stderr)
	}
}
