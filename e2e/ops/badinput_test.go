package ops

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/control"
	"github.com/batonhq/baton/internal/e2etest"
	batonmaster "github.com/batonhq/baton/internal/master"
	"github.com/batonhq/baton/internal/supervisor"
)

// oneLine fails unless stderr is exactly one line holding every want.
func oneLine(t *testing.T, stderr string, want ...string) {
	t.Helper()
	line := strings.TrimSuffix(stderr, "\n")
	if line == "" || strings.Contains(line, "\n") {
		t.Fatalf("want one error line, got %q", stderr)
	}
	for _, w := range want {
		if !strings.Contains(line, w) {
			t.Fatalf("error line %q lacks %q", line, w)
		}
	}
}

// markScript is a command that leaves a file behind if it ever starts,
// in a directory every user may enter.
func markScript(t *testing.T) (cmd, marker string) {
	dir := e2etest.RuntimeDir(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	marker = filepath.Join(dir, "started")
	return e2etest.WriteScript(t, dir, "mark.sh", "#!/bin/sh\ntouch "+marker+"\nexec sleep 5\n"), marker
}

func mustNotExist(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		t.Fatalf("%s exists: the command was started", path)
	}
}

// A user who may not bind the address gets one line saying why, and
// nothing starts: a port below the unprivileged start, a unix socket in a
// directory the user cannot write.
func TestBadInputNoPermissionToBind(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root, to run the master as nobody")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("needs setpriv (util-linux) to run the master as nobody")
	}
	cmd, marker := markScript(t)
	xdg := e2etest.RuntimeDir(t)
	if err := os.Chown(xdg, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(e2etest.RuntimeDir(t), "ro")
	if err := os.Mkdir(readOnly, 0o555); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(filepath.Dir(readOnly), 0o755)
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+xdg)
	asNobody := func(args ...string) (string, int) {
		c := exec.Command(setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", e2etest.BatonBin}, args...)...)
		c.Env = env
		_, stderr, code := e2etest.RunCommand(t, c)
		return stderr, code
	}
	port := 80
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start"); err == nil {
		if start, _ := strconv.Atoi(strings.TrimSpace(string(b))); start <= port {
			t.Logf("net.ipv4.ip_unprivileged_port_start is %d: anyone may bind :%d here, that case is skipped", start, port)
			port = 0
		}
	}
	if port != 0 {
		stderr, code := asNobody("run", "--name", "p80", "-l", "127.0.0.1:80", "--", cmd)
		if code != 1 {
			t.Fatalf("bind :80 as nobody: exit %d, want 1: %s", code, stderr)
		}
		oneLine(t, stderr, "--listen", "127.0.0.1:80", "permission denied", "CAP_NET_BIND_SERVICE")
	}
	sock := filepath.Join(readOnly, "app.sock")
	stderr, code := asNobody("run", "--name", "pro", "-l", "unix:"+sock, "--", cmd)
	if code != 1 {
		t.Fatalf("bind a unix socket in a read-only directory as nobody: exit %d, want 1: %s", code, stderr)
	}
	oneLine(t, stderr, "--listen", sock, "permission denied", "uid 65534 cannot create a file in "+readOnly)
	mustNotExist(t, marker)
}

// An open-file limit too low for the workers is one line at start (run
// exits 1, check lists it) and a refused scale (exit 4), not workers that
// fail to spawn one by one; the estimate covers what a master really holds.
func TestBadInputFDLimitTooLow(t *testing.T) {
	cmd, marker := markScript(t)
	xdg := e2etest.RuntimeDir(t)
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+xdg)
	limited := func(limit int, args ...string) (string, int) {
		c := exec.Command("sh", append([]string{"-c", "ulimit -n " + strconv.Itoa(limit) + ` && exec "$0" "$@"`, e2etest.BatonBin}, args...)...)
		c.Env = env
		_, stderr, code := e2etest.RunCommand(t, c)
		return stderr, code
	}
	args := []string{"--name", "fds", "-w", "8", "-l", "127.0.0.1:0", "-l", "127.0.0.1:0", "--", cmd}
	stderr, code := limited(20, append([]string{"run"}, args...)...)
	if code != 1 {
		t.Fatalf("run under ulimit -n 20: exit %d, want 1: %s", code, stderr)
	}
	oneLine(t, stderr, "open-file limit is 20", "8 workers and 2 listening sockets", "ulimit -n")
	if stderr, code := limited(20, append([]string{"check"}, args...)...); code != 1 || !strings.Contains(stderr, "open-file limit is 20") {
		t.Fatalf("check under ulimit -n 20: exit %d: %s", code, stderr)
	}
	mustNotExist(t, marker)

	// A running master refuses to scale past its limit and keeps serving.
	m := e2etest.Launch(t, "--name", "fdscale", "-w", "2", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	m.WaitReady(2, 20*time.Second)
	cfg := config.Config{Listen: make([]config.Listen, 1), Parallel: 1}
	if n, need := hardCountFDs(t, m.Cmd.Process.Pid), batonmaster.FDsNeeded(cfg, 2); uint64(n) > need {
		t.Fatalf("a master with 2 workers holds %d descriptors, more than the %d it is said to need", n, need)
	}
	_ = m.Cmd.Process.Kill()
	m.Wait(10 * time.Second)
	capped := launchLimited(t, 45, xdg, env, "--name", "fdcap", "-w", "2", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	capped.WaitReady(2, 20*time.Second)
	_, stderr, code = capped.Baton("scale", "--name", "fdcap", "8")
	if code != 4 {
		t.Fatalf("scale 8 under ulimit -n 45: exit %d, want 4: %s", code, stderr)
	}
	oneLine(t, stderr, "refused", "open-file limit is 45", "8 workers")
	if _, _, code := capped.Baton("scale", "--name", "fdcap", "3"); code != 0 {
		t.Fatalf("scale 3 under ulimit -n 45: exit %d, want 0", code)
	}
	capped.WaitReady(3, 20*time.Second)
	if st := capped.Status(); st.Desired != 3 || e2etest.CountState(st, supervisor.Ready) != 3 {
		t.Fatalf("after the refused scale and a good one: %+v", st.Workers)
	}
}

// The control socket removed by hand: the master creates it again within
// about a second, says so in its log, and client commands reach it as
// before (meanwhile they say in one line that no master answers there).
// Removed with its lock file (a cleaner of /tmp), the name is free: the
// master says so once and leaves the path to whichever master takes it
// (TestHardeningTwoMastersOnOneControlPath).
func TestBadInputControlSocketRemovedIsCreatedAgain(t *testing.T) {
	m := e2etest.StartMaster(t, 1, "--name", "ctlgone", "-w", "1", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	before, addr := m.Status().PID, m.Addr()
	for i := 1; i <= 2; i++ {
		if err := os.Remove(m.Ctl.Path); err != nil {
			t.Fatal(err)
		}
		if _, stderr, code := m.Baton("status", "--name", "ctlgone"); code != 0 {
			t.Logf("status while the socket is gone: exit %d: %s", code, strings.TrimSpace(stderr))
			if code != 3 || strings.Contains(strings.TrimSpace(stderr), "\n") {
				t.Fatalf("status while the socket is gone: exit %d, want 3 and one line: %q", code, stderr)
			}
		}
		e2etest.WaitFor(t, "the control socket to be created again", 10*time.Second, func() bool {
			_, _, code := m.Baton("status", "--name", "ctlgone", "--json")
			return code == 0
		})
		if pid := m.Status().PID; pid != before {
			t.Fatalf("status answers from pid %d, the master is %d", pid, before)
		}
		if st, err := os.Stat(m.Ctl.Path); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("the new control socket: %v %v", st, err)
		}
		if n := strings.Count(m.Out.String(), "the control socket was removed: created it again"); n != i {
			t.Fatalf("%d log lines about the control socket, want %d:\n%s", n, i, m.Out.String())
		}
	}
	if out, stderr, code := m.Baton("reload", "--name", "ctlgone"); code != 0 {
		t.Fatalf("reload through the new control socket: exit %d\n%s%s", code, out, stderr)
	}
	for _, p := range []string{m.Ctl.Path, control.LockPath(m.Ctl.Path)} {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	e2etest.WaitFor(t, "the master to say its name is given up", 10*time.Second, func() bool {
		return strings.Contains(m.Out.String(), "the control socket was removed and is not created again")
	})
	if _, err := os.Lstat(m.Ctl.Path); !os.IsNotExist(err) {
		t.Fatalf("the master took a given-up name back: %v", err)
	}
	if _, err := e2etest.OneShotGet(addr); err != nil {
		t.Fatalf("the master stopped serving: %v", err)
	}
}

// A worker that closes its inherited listening socket (its own copy of the
// descriptor) harms no one: the socket stays open in the master and the
// other workers, which keep serving every request.
func TestBadInputWorkerClosesItsListeningSocket(t *testing.T) {
	dir := e2etest.RuntimeDir(t)
	closer := e2etest.WriteScript(t, dir, "closer.py", `#!/usr/bin/env python3
import os, socket, time
os.close(3)  # drop the inherited listening socket, then say ready and idle
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])
time.sleep(600)
`)
	worker := e2etest.WriteScript(t, dir, "worker.sh", "#!/bin/sh\nif [ \"$BATON_SLOT\" = 0 ]; then exec "+closer+"; fi\nexec "+e2etest.HelloBin+"\n")
	m := e2etest.StartMaster(t, 3, "--name", "closer", "-w", "3", "-l", "127.0.0.1:0", "--stop-timeout", "2s", "--", worker)
	l := e2etest.StartLoad(t, m.Addr(), "/", 8)
	e2etest.WaitFor(t, "requests answered", 20*time.Second, func() bool { return l.Answers.Total() >= 100 })
	res := l.Stop(t) // fails the test on any failed request
	if st := m.Status(); e2etest.CountState(st, supervisor.Ready) != 3 || st.Master.SocketsHealed != 0 {
		t.Fatalf("after a worker closed its socket: %+v, sockets healed %d", st.Workers, st.Master.SocketsHealed)
	}
	t.Logf("%d requests, all answered by the two workers that kept the socket", res.OK)
}

// launchLimited starts `baton run ARGS...` under `ulimit -n limit` with
// the runtime directory xdg (env holds it).
func launchLimited(t *testing.T, limit int, xdg string, env []string, args ...string) *e2etest.Master {
	t.Helper()
	c := exec.Command("sh", append([]string{"-c", "ulimit -n " + strconv.Itoa(limit) + ` && exec "$0" run "$@"`, e2etest.BatonBin}, args...)...)
	return e2etest.StartCommand(t, c, env, nil, filepath.Join(xdg, "baton", e2etest.FlagValue(args, "--name")+".sock"))
}
