package e2e

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
	"github.com/batonhq/baton/internal/loadtest"
	"github.com/batonhq/baton/internal/supervisor"
)

func TestFourWorkersShareOneSocket(t *testing.T) {
	m := e2etest.StartMaster(t, 4, "--name", "share", "-w", "4", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	st := m.Status()
	seen := map[int]bool{}
	for _, w := range st.Workers {
		if seen[w.PID] {
			t.Fatalf("pid %d twice", w.PID)
		}
		seen[w.PID] = true
	}
	// The one master of this user is found without --name.
	stdout, stderr, code := m.Baton("status")
	if code != 0 || !strings.Contains(stdout, "SLOT  PID") || !strings.Contains(stdout, strconv.Itoa(st.Workers[3].PID)) ||
		!strings.Contains(stdout, "master share: pid") || !strings.Contains(stdout, "serving") {
		t.Fatalf("baton status: exit %d\n%s%s", code, stdout, stderr)
	}
	// Keep-alive load: every request succeeds.
	res, err := loadtest.Run(context.Background(), loadtest.Options{Addr: m.Addr(), Conns: 32, Requests: 3000})
	if err != nil || res.Failed != 0 {
		t.Fatalf("load: %v %s %v", err, res, res.FirstErrors)
	}
	// New connections, a few at a time: whichever worker is free accepts
	// from the one shared queue.
	pc := e2etest.NewAnswerCounter()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50 && pc.DistinctPIDs() < 4; i++ {
				body, err := e2etest.OneShotGet(m.Addr())
				if err != nil {
					t.Error(err)
					return
				}
				pc.OnResponse(200, body)
			}
		}()
	}
	wg.Wait()
	t.Logf("answers per pid: %v", pc.PerPID())
	if pc.DistinctPIDs() < 3 {
		t.Fatalf("requests reached %d distinct pids (%v), want at least 3", pc.DistinctPIDs(), pc.PerPID())
	}
	for pid := range pc.PerPID() {
		if !seen[pid] {
			t.Fatalf("answer from pid %d, which is not one of the workers %v", pid, seen)
		}
	}
}

func TestListenPIDAndNamedSocketsInOrder(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(e2etest.RuntimeDir(t), "api.sock")
	script, _ := filepath.Abs("testdata/listenpid.py")
	report := filepath.Join(dir, "report")
	m := e2etest.StartMaster(t, 2, "--name", "pycheck", "-w", "2", "-l", "web=127.0.0.1:0", "-l", "api=unix:"+sock,
		"--env", "REPORT="+report, "--", script)
	st := m.Status()
	for _, w := range st.Workers {
		b, err := os.ReadFile(report + "." + strconv.Itoa(w.PID))
		if err != nil {
			t.Fatalf("worker %d wrote no report: %v", w.PID, err)
		}
		want := "pid_ok=True fds=2 names=web:tcp,api:unix\n"
		if string(b) != want {
			t.Fatalf("worker %d saw %q, want %q", w.PID, b, want)
		}
		if w.Status != "python ok" {
			t.Fatalf("STATUS= text: got %q", w.Status)
		}
	}
	if st.Sockets[0].Name != "web" || st.Sockets[1].Name != "api" || st.Sockets[1].FD != 4 {
		t.Fatalf("sockets: %+v", st.Sockets)
	}
}

func TestKill9WorkerUnderLoadIsReplacedFast(t *testing.T) {
	m := e2etest.StartMaster(t, 1, "--name", "crash1", "-w", "1", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	old := m.Status().Workers[0].PID
	addr := m.Addr()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _, _ = loadtest.Run(ctx, loadtest.Options{Addr: addr, Conns: 8}) }()
	killed := time.Now()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var newPID int
	e2etest.WaitFor(t, "a new worker to answer", 15*time.Second, func() bool {
		res, err := loadtest.Run(context.Background(), loadtest.Options{Addr: addr, Requests: 1, OnResponse: func(_ int, b []byte) {
			var r e2etest.HelloReply
			if json.Unmarshal(b, &r) == nil && r.PID != old {
				newPID = r.PID
			}
		}})
		return err == nil && res.OK == 1 && newPID != 0
	})
	// How fast is a figure for BENCHMARKS.md; what is asserted is that the
	// first crash of a slot respawns at once, with no backoff.
	t.Logf("the new worker served %s after the kill", time.Since(killed))
	e2etest.WaitFor(t, "the crash in the master's log", 5*time.Second, func() bool {
		out := m.Out.String()
		return strings.Contains(out, `msg="worker crashed"`) && strings.Contains(out, "signal killed") && strings.Contains(out, "pid="+strconv.Itoa(old))
	})
	if strings.Contains(m.Out.String(), "respawn backing off") {
		t.Fatalf("the first crash waited for a backoff:\n%s", m.Out.String())
	}
}

func TestCrashLoopBacksOff(t *testing.T) {
	dir := t.TempDir()
	stamps := filepath.Join(dir, "stamps")
	script := e2etest.WriteScript(t, dir, "crash.sh", "#!/bin/sh\ndate +%s%N >> "+stamps+"\necho 'boom: cannot start' >&2\nexit 3\n")
	m := e2etest.Launch(t, "--name", "loop", "-w", "1", "-l", "127.0.0.1:0", "--", script)
	var times []time.Time
	e2etest.WaitFor(t, "7 spawns", 20*time.Second, func() bool {
		times = readStamps(t, stamps)
		return len(times) >= 7
	})
	gaps := make([]time.Duration, 0, len(times)-1)
	for i := 1; i < len(times); i++ {
		gaps = append(gaps, times[i].Sub(times[i-1]))
	}
	t.Logf("gaps between spawns: %v", gaps)
	// After the 2nd, 3rd, ... consecutive crash the respawn waits 100ms,
	// 200ms, 400ms, 800ms, 1.6s: each gap is at least its backoff (a
	// loaded machine only makes gaps longer, so only lower bounds).
	for i, least := range []time.Duration{1: 90 * time.Millisecond, 2: 190 * time.Millisecond, 3: 390 * time.Millisecond, 4: 790 * time.Millisecond, 5: 1590 * time.Millisecond} {
		if gaps[i] < least {
			t.Fatalf("gap %d is %s, shorter than its backoff %s: %v", i, gaps[i], least, gaps)
		}
	}
	out := m.Out.String()
	if !strings.Contains(out, "exit status 3") || !strings.Contains(out, "boom: cannot start") || !strings.Contains(out, "respawn backing off") {
		t.Fatalf("crash log lacks exit status, last output or backoff:\n%s", out)
	}
}

func readStamps(t *testing.T, path string) []time.Time {
	b, _ := os.ReadFile(path)
	var out []time.Time
	for _, l := range strings.Fields(string(b)) {
		ns, err := strconv.ParseInt(l, 10, 64)
		if err == nil {
			out = append(out, time.Unix(0, ns))
		}
	}
	return out
}

// stubbornScript ignores SIGTERM, as does the child it starts; it writes
// the child's pid to $GC.$$ and only then says READY=1 (a --ready delay
// could pass, on a loaded machine, before the trap is set).
const stubbornScript = `#!/bin/sh
trap '' TERM
sleep 1000 &
echo $! > "$GC.$$"
python3 -c 'import os,socket; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.connect(os.environ["NOTIFY_SOCKET"]); s.send(b"READY=1")'
wait
`

func TestStopTimeoutKillsWorkerAndItsChildren(t *testing.T) {
	dir := t.TempDir()
	script := e2etest.WriteScript(t, dir, "stubborn.sh", stubbornScript)
	gc := filepath.Join(dir, "gc")
	m := e2etest.StartMaster(t, 1, "--name", "stubborn", "-w", "1", "-l", "127.0.0.1:0",
		"--stop-timeout", "1s", "--env", "GC="+gc, "--", script)
	w := m.Status().Workers[0].PID
	child := e2etest.ReadPIDFile(t, gc+"."+strconv.Itoa(w))
	start := time.Now()
	_ = m.Cmd.Process.Signal(syscall.SIGTERM)
	if code := m.Wait(10 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("master exited after %s, before the 1s stop timeout", d)
	}
	e2etest.WaitFor(t, "worker and child gone", 2*time.Second, func() bool { return !e2etest.Alive(w) && !e2etest.Alive(child) })
	if !strings.Contains(m.Out.String(), "did not exit within --stop-timeout") {
		t.Fatalf("no kill log line:\n%s", m.Out.String())
	}
}

func TestSecondSigtermSkipsTheWait(t *testing.T) {
	dir := t.TempDir()
	script := e2etest.WriteScript(t, dir, "stubborn.sh", stubbornScript)
	m := e2etest.StartMaster(t, 2, "--name", "twice", "-w", "2", "-l", "127.0.0.1:0",
		"--stop-timeout", "60s", "--env", "GC="+filepath.Join(dir, "gc"), "--", script)
	ws := e2etest.PIDs(m.Status())
	_ = m.Cmd.Process.Signal(syscall.SIGTERM)
	e2etest.WaitFor(t, "stopping state", 5*time.Second, func() bool { return strings.Contains(m.Out.String(), "stopping: draining") })
	_ = m.Cmd.Process.Signal(syscall.SIGTERM)
	if code := m.Wait(10 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	for _, p := range ws {
		if e2etest.Alive(p) {
			t.Fatalf("worker %d still alive", p)
		}
	}
}

func TestKill9MasterLeavesNoProcessBehind(t *testing.T) {
	dir := t.TempDir()
	script := e2etest.WriteScript(t, dir, "parent.sh", "#!/bin/sh\nsleep 1000 &\necho $! > \"$GC.$$\"\nwait\n")
	gc := filepath.Join(dir, "gc")
	m := e2etest.StartMaster(t, 3, "--name", "orphans", "-w", "3", "-l", "127.0.0.1:0", "--ready", "delay:50ms",
		"--env", "GC="+gc, "--", script)
	var all []int
	for _, w := range m.Status().Workers {
		all = append(all, w.PID, e2etest.ReadPIDFile(t, gc+"."+strconv.Itoa(w.PID)))
	}
	_ = m.Cmd.Process.Kill()
	m.Wait(5 * time.Second)
	e2etest.WaitFor(t, "every worker and grandchild gone", 2*time.Second, func() bool {
		for _, p := range all {
			if e2etest.Alive(p) {
				return false
			}
		}
		return true
	})
}

func TestGracefulStopCleansUp(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "baton.pid")
	m := e2etest.StartMaster(t, 2, "--name", "clean", "-w", "2", "-l", "127.0.0.1:0", "--pidfile", pidfile, "--", e2etest.HelloBin)
	b, err := os.ReadFile(pidfile)
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(m.Cmd.Process.Pid) {
		t.Fatalf("pidfile: %q %v", b, err)
	}
	ctlPath := m.Ctl.Path
	st, err := os.Stat(ctlPath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("control socket mode: %v %v", st, err)
	}
	if dst, err := os.Stat(filepath.Dir(ctlPath)); err != nil || dst.Mode().Perm() != 0o700 {
		t.Fatalf("control dir mode: %v %v", dst, err)
	}
	addr := m.Addr()
	ws := e2etest.PIDs(m.Status())
	if _, stderr, code := m.Baton("stop", "--name", "clean"); code != 0 {
		t.Fatalf("baton stop: %d %s", code, stderr)
	}
	if code := m.Wait(10 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	for _, p := range ws {
		if e2etest.Alive(p) {
			t.Fatalf("worker %d alive after stop", p)
		}
	}
	for _, p := range []string{pidfile, ctlPath} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("%s not removed: %v", p, err)
		}
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatalf("socket %s still accepts after stop", addr)
	}
	if strings.Count(m.Out.String(), `exit="exit status 0"`) != 2 {
		t.Fatalf("workers did not exit cleanly:\n%s", m.Out.String())
	}
}

func TestClientWithoutMasterExits3(t *testing.T) {
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+e2etest.RuntimeDir(t))
	for _, args := range [][]string{{"status"}, {"reload"}, {"stop", "--name", "nobody"}} {
		_, stderr, code := e2etest.RunBaton(t, env, args...)
		if code != 3 || !strings.Contains(stderr, "no baton master found") {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
}

// With two masters and no --name, a client command cannot know which one
// is meant: a usage error (exit 2), not "no master found" (exit 3, which a
// script may take as "start one"), and nothing changes.
func TestClientWithTwoMastersAndNoNameExits2(t *testing.T) {
	xdg := e2etest.RuntimeDir(t)
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+xdg)
	var masters []*e2etest.Master
	for _, name := range []string{"one", "two"} {
		cmd := exec.Command(e2etest.BatonBin, "run", "--name", name, "-w", "1", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
		m := e2etest.StartCommand(t, cmd, env, nil, filepath.Join(xdg, "baton", name+".sock"))
		m.WaitReady(1, 20*time.Second)
		masters = append(masters, m)
	}
	before := e2etest.PIDs(masters[0].Status())
	for _, args := range [][]string{{"status"}, {"scale", "2"}, {"reload"}, {"stop"}} {
		_, stderr, code := e2etest.RunBaton(t, env, args...)
		line := strings.TrimSuffix(stderr, "\n")
		if code != 2 || strings.Contains(line, "\n") || !strings.Contains(line, "one, two") || !strings.Contains(line, "--name") {
			t.Fatalf("%v: exit %d, want 2 and one line naming both masters and --name: %q", args, code, stderr)
		}
	}
	for _, m := range masters {
		if st := m.Status(); st.Phase != supervisor.PhaseRunning || len(st.Workers) != 1 {
			t.Fatalf("master %s changed: %+v", st.Name, st)
		}
	}
	if err := e2etest.SamePIDs(before, e2etest.PIDs(masters[0].Status())); err != nil {
		t.Fatal(err)
	}
}

func TestWorkerNotReadyInTimeIsStoppedAndRetried(t *testing.T) {
	dir := t.TempDir()
	stamps := filepath.Join(dir, "stamps")
	script := e2etest.WriteScript(t, dir, "mute.sh", "#!/bin/sh\ndate +%s%N >> "+stamps+"\nexec sleep 1000\n")
	m := e2etest.Launch(t, "--name", "mute", "-w", "1", "-l", "127.0.0.1:0", "--ready-timeout", "300ms", "--stop-timeout", "1s", "--", script)
	// Counted from the master's log, not from the script's stamps: on a
	// loaded machine a worker may be stopped at 300 ms before its shell
	// got as far as writing one.
	e2etest.WaitFor(t, "the worker to fail twice", 60*time.Second, func() bool {
		return strings.Count(m.Out.String(), "not ready within --ready-timeout 300ms") >= 2
	})
	out := m.Out.String()
	if !strings.Contains(out, `msg="worker failed"`) || strings.Count(out, `msg="worker started"`) < 2 {
		t.Fatalf("no readiness failure logged, or no retry:\n%s", out)
	}
	if st := m.Status(); e2etest.CountState(st, supervisor.Ready) != 0 {
		t.Fatalf("a worker that never notified counts as ready: %+v", st.Workers)
	}
}
