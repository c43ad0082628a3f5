package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/control"
	"github.com/batonhq/baton/internal/e2etest"
	"github.com/batonhq/baton/internal/loadtest"
	"github.com/batonhq/baton/internal/supervisor"
)

func rolloutsUnderLoad(t *testing.T, name string, workers, rollouts int, path, strategy string) {
	m := e2etest.StartMaster(t, workers, "--name", name, "-w", strconv.Itoa(workers), "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	l := e2etest.StartLoad(t, m.Addr(), path, 16)
	e2etest.WaitFor(t, "load flowing", 5*time.Second, func() bool { return l.Answers.DistinctPIDs() > 0 })
	for i := 0; i < rollouts; i++ {
		st := m.Reload(strategy)
		if st.Replaced != workers || st.Killed != 0 {
			t.Fatalf("rollout %d: replaced %d killed %d", st.ID, st.Replaced, st.Killed)
		}
	}
	l.Stop(t)
	st := m.Status()
	if g := e2etest.Generations(st); g[rollouts+1] != workers || len(g) != 1 {
		t.Fatalf("generations after %d rollouts: %v", rollouts, g)
	}
}

func TestTwentyRolloutsOfFourWorkersUnderLoadFailNothing(t *testing.T) {
	rolloutsUnderLoad(t, "r20", 4, 20, "/", "")
}

func TestRolloutsWithSlowRequestsInFlightFailNothing(t *testing.T) {
	rolloutsUnderLoad(t, "slow", 4, 5, "/?sleep=300ms", "")
}

func TestOneWorkerSurgeRolloutsFailNothing(t *testing.T) {
	rolloutsUnderLoad(t, "one", 1, 10, "/", "")
}

func TestParallelRolloutsUnderLoadFailNothing(t *testing.T) {
	m := e2etest.StartMaster(t, 4, "--name", "par", "-w", "4", "--parallel", "2", "-l", "127.0.0.1:0", "--", e2etest.HelloBin, "-ready-delay", "100ms")
	l := e2etest.StartLoad(t, m.Addr(), "/", 16)
	for i := 0; i < 3; i++ {
		unready, most := 0, 0
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		st, err := m.Ctl.Reload(ctx, "", func(e supervisor.Event) {
			switch e.Step {
			case supervisor.StepSpawned:
				unready++
			case supervisor.StepReady:
				unready--
			}
			most = max(most, unready)
		})
		cancel()
		if err != nil || st.State != supervisor.RolloutDone || st.Replaced != 4 {
			t.Fatalf("rollout: %v %+v", err, st)
		}
		if most != 2 {
			t.Fatalf("at most %d new workers were unready at once, want exactly --parallel 2", most)
		}
	}
	l.Stop(t)
	if g := e2etest.Generations(m.Status()); g[4] != 4 {
		t.Fatalf("generations %v", g)
	}
}

func TestReplaceStrategyUnderLoadFailsNothing(t *testing.T) {
	rolloutsUnderLoad(t, "repl", 4, 5, "/", "replace")
}

// switchable writes a worker script whose behaviour at start-up is chosen
// by files in dir: BROKEN exits 1 at once, HANG never becomes ready.
func switchable(t *testing.T, dir string) string {
	return e2etest.WriteScript(t, dir, "app.sh", `#!/bin/sh
if [ -e "`+dir+`/BROKEN" ]; then echo "fatal: config parse error at line 3" >&2; exit 1; fi
if [ -e "`+dir+`/HANG" ]; then echo "warming caches forever"; exec sleep 1000; fi
exec `+e2etest.HelloBin+`
`)
}

func TestBrokenBuildAbortsRolloutAndKeepsOldWorkers(t *testing.T) {
	dir := t.TempDir()
	m := e2etest.StartMaster(t, 4, "--name", "broken", "-w", "4", "-l", "127.0.0.1:0", "--", switchable(t, dir))
	before := e2etest.PIDs(m.Status())
	l := e2etest.StartLoad(t, m.Addr(), "/", 16)
	e2etest.Touch(t, filepath.Join(dir, "BROKEN"))
	stdout, stderr, code := m.Baton("reload", "--name", "broken")
	if code != 1 {
		t.Fatalf("reload exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	for _, w := range []string{"slot 0", "exit status 1", "fatal: config parse error at line 3"} {
		if !strings.Contains(stderr, w) {
			t.Fatalf("failure report lacks %q:\n%s", w, stderr)
		}
	}
	st := m.Status()
	if g := e2etest.Generations(st); g[1] != 4 || e2etest.SamePIDs(before, e2etest.PIDs(st)) != nil {
		t.Fatalf("old generation not intact: %v %v vs %v", g, e2etest.PIDs(st), before)
	}
	if st.Rollout == nil || st.Rollout.State != supervisor.RolloutFailed {
		t.Fatalf("status does not show the failed rollout: %+v", st.Rollout)
	}
	os.Remove(filepath.Join(dir, "BROKEN"))
	if stdout, stderr, code := m.Baton("reload", "--name", "broken"); code != 0 {
		t.Fatalf("fixed reload: exit %d\n%s%s", code, stdout, stderr)
	}
	l.Stop(t)
	if g := e2etest.Generations(m.Status()); len(g) != 1 || g[1] != 0 {
		t.Fatalf("after the fix: %v", g)
	}
}

func TestNeverReadyWorkerAbortsAfterReadyTimeout(t *testing.T) {
	dir := t.TempDir()
	// The timeout leaves a loaded machine time to start the new worker's
	// shell and print its line, which the failure report must quote.
	m := e2etest.StartMaster(t, 2, "--name", "hang", "-w", "2", "-l", "127.0.0.1:0", "--ready-timeout", "5s", "--", switchable(t, dir))
	before := e2etest.PIDs(m.Status())
	l := e2etest.StartLoad(t, m.Addr(), "/", 8)
	e2etest.Touch(t, filepath.Join(dir, "HANG"))
	start := time.Now()
	_, stderr, code := m.Baton("reload", "--name", "hang")
	if code != 1 || !strings.Contains(stderr, "not ready within --ready-timeout 5s") || !strings.Contains(stderr, "warming caches forever") {
		t.Fatalf("reload exit %d:\n%s", code, stderr)
	}
	if d := time.Since(start); d < 5*time.Second {
		t.Fatalf("aborted after %s, before the ready timeout", d)
	}
	l.Stop(t)
	if err := e2etest.SamePIDs(before, e2etest.PIDs(m.WaitReady(2, 5*time.Second))); err != nil {
		t.Fatal(err)
	}
}

func TestStubbornOldWorkerIsKilledAndRolloutContinues(t *testing.T) {
	dir := t.TempDir()
	script := e2etest.WriteScript(t, dir, "stubborn.sh", stubbornScript)
	m := e2etest.StartMaster(t, 2, "--name", "stub", "-w", "2", "-l", "127.0.0.1:0",
		"--stop-timeout", "500ms", "--env", "GC="+filepath.Join(dir, "gc"), "--", script)
	stdout, stderr, code := m.Baton("reload", "--name", "stub")
	if code != 0 {
		t.Fatalf("reload exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "2 killed after --stop-timeout") || !strings.Contains(stdout, "did not drain within --stop-timeout 500ms: killed") {
		t.Fatalf("report does not count the kills:\n%s", stdout)
	}
	if g := e2etest.Generations(m.Status()); g[2] != 2 {
		t.Fatalf("generations %v", g)
	}
}

func TestRefusalsChangeNothing(t *testing.T) {
	dir := t.TempDir()
	compat := filepath.Join(dir, "compat")
	if err := os.WriteFile(compat, []byte("42\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "baton.toml")
	writeCfg := func(listen, cmd string) {
		body := "listen = [\"" + listen + "\"]\ncompat = \"" + compat + "\"\ncommand = [\"" + cmd + "\"]\n"
		if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg("127.0.0.1:0", e2etest.HelloBin)
	m := e2etest.StartMaster(t, 1, "--name", "refuse", "-w", "1", "-c", cfg)
	before := e2etest.PIDs(m.Status())
	expectRefused := func(why string, args ...string) {
		t.Helper()
		_, stderr, code := m.Baton(append([]string{"reload", "--name", "refuse"}, args...)...)
		if code != 4 || !strings.Contains(stderr, why) {
			t.Fatalf("want refusal (exit 4) saying %q, got exit %d: %s", why, code, stderr)
		}
		if err := e2etest.SamePIDs(before, e2etest.PIDs(m.Status())); err != nil {
			t.Fatalf("a refusal changed workers: %v", err)
		}
	}
	expectRefused("would leave nothing serving", "--strategy", "replace")
	writeCfg("127.0.0.1:1", e2etest.HelloBin)
	expectRefused("sockets changed")
	writeCfg("127.0.0.1:0", filepath.Join(dir, "missing-binary"))
	expectRefused("missing-binary")
	if err := os.WriteFile(cfg, []byte("listen = [\"127.0.0.1:0\"]\nbogus = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	expectRefused(`unknown key "bogus"`)
	writeCfg("127.0.0.1:0", e2etest.HelloBin)
	if err := os.WriteFile(compat, []byte("43\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	expectRefused("compatibility token changed")
	if err := os.WriteFile(compat, []byte("42\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m.Reload("") // with everything restored, the next rollout is accepted
}

func TestConcurrentReloadIsRefusedAndSigusr2Ignored(t *testing.T) {
	m := e2etest.StartMaster(t, 2, "--name", "busy", "-w", "2", "-l", "127.0.0.1:0", "--", e2etest.HelloBin, "-ready-delay", "1s")
	first := make(chan error, 1)
	go func() {
		_, err := m.Ctl.Reload(context.Background(), "", nil)
		first <- err
	}()
	e2etest.WaitFor(t, "the rollout to run", 5*time.Second, func() bool {
		r := m.Status().Rollout
		return r != nil && r.State == supervisor.RolloutRunning
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := m.Ctl.Reload(ctx, "", nil)
	if !control.IsRefused(err) || !strings.Contains(err.Error(), "already running (0 of 2 slots replaced)") {
		t.Fatalf("second reload: %v", err)
	}
	_ = m.Cmd.Process.Signal(syscall.SIGUSR2)
	e2etest.WaitFor(t, "SIGUSR2 log line", 5*time.Second, func() bool {
		return strings.Contains(m.Out.String(), "SIGUSR2 ignored: a rollout is running")
	})
	if _, stderr, code := m.Baton("scale", "--name", "busy", "3"); code != 4 || !strings.Contains(stderr, "rollout") {
		t.Fatalf("scale during rollout: exit %d %s", code, stderr)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if st := m.Status(); st.Rollout.ID != 1 || st.Rollout.State != supervisor.RolloutDone {
		t.Fatalf("rollouts: %+v", st.Rollout)
	}
}

func TestSigusr2RollsOut(t *testing.T) {
	m := e2etest.StartMaster(t, 2, "--name", "usr2", "-w", "2", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	_ = m.Cmd.Process.Signal(syscall.SIGUSR2)
	e2etest.WaitFor(t, "generation 2 everywhere", 10*time.Second, func() bool {
		st := m.Status()
		return e2etest.Generations(st)[2] == 2 && len(st.Workers) == 2 && st.Rollout != nil && st.Rollout.State == supervisor.RolloutDone
	})
	if r := m.Status().Rollout; r.Trigger != supervisor.TriggerSignal {
		t.Fatalf("trigger %q", r.Trigger)
	}
}

func TestScaleUpAndDown(t *testing.T) {
	m := e2etest.StartMaster(t, 2, "--name", "scale", "-w", "2", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	l := e2etest.StartLoad(t, m.Addr(), "/", 8)
	if _, stderr, code := m.Baton("scale", "--name", "scale", "4"); code != 0 {
		t.Fatalf("scale 4: %d %s", code, stderr)
	}
	m.WaitReady(4, 10*time.Second)
	_ = m.Cmd.Process.Signal(syscall.SIGTTOU)
	m.WaitReady(3, 10*time.Second)
	_ = m.Cmd.Process.Signal(syscall.SIGTTIN)
	m.WaitReady(4, 10*time.Second)
	if _, _, code := m.Baton("scale", "--name", "scale", "1"); code != 0 {
		t.Fatal("scale 1")
	}
	st := m.WaitReady(1, 10*time.Second)
	if st.Workers[0].Slot != 0 {
		t.Fatalf("slot 0 should remain: %+v", st.Workers)
	}
	l.Stop(t)
	if _, stderr, code := m.Baton("scale", "--name", "scale", "0"); code != 2 || !strings.Contains(stderr, "1..1024") {
		t.Fatalf("scale 0: %d %s", code, stderr)
	}
}

// The same rollouts under the same load, once with the example server
// (drained by package worker) and once with a server drained by plain
// http.Server.Shutdown. Only the library's figure is asserted; the other is
// logged for BENCHMARKS.md, since the race it loses is timing-dependent.
func TestLibraryDrainVersusPlainShutdownUnderRollouts(t *testing.T) {
	plainBin := e2etest.BuildProgram(t, "plainserver", "./testdata/plainserver")
	for _, tc := range []struct {
		name, bin string
	}{{"library", e2etest.HelloBin}, {"plain", plainBin}} {
		m := e2etest.StartMaster(t, 4, "--name", "cmp-"+tc.name, "-w", "4", "-l", "127.0.0.1:0", "--", tc.bin)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan loadtest.Result, 1)
		go func() {
			res, _ := loadtest.Run(ctx, loadtest.Options{Addr: m.Addr(), Conns: 32})
			done <- res
		}()
		for i := 0; i < 10; i++ {
			m.Reload("")
		}
		cancel()
		res := <-done
		t.Logf("%s drain, 10 rollouts of 4 workers: %s", tc.name, res)
		if tc.name == "library" && res.Failed != 0 {
			t.Errorf("library drain: %d failed: %v", res.Failed, res.FirstErrors)
		}
		m.Stop()
	}
}
