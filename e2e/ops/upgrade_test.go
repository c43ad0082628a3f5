package ops

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
	"github.com/batonhq/baton/internal/supervisor"
)

func TestUpgradesUnderLoadFailNothing(t *testing.T) {
	u := e2etest.StartUpgradable(t, e2etest.BatonBin, 2, "--name", "up", "-w", "2", "-l", "127.0.0.1:0", "--pidfile", "master.pid", "--", e2etest.HelloBin)
	first := u.MustStatus()
	l := e2etest.StartLoad(t, first.Sockets[0].Address, "/", 16)
	slow := e2etest.StartLoad(t, first.Sockets[0].Address, "/?sleep=50ms", 4)
	polls, stopPolling := pollStatus(u)
	seen := map[int]bool{first.PID: true}
	for i := 1; i <= 5; i++ {
		out, code := u.Upgrade()
		if code != 0 || !strings.Contains(out, "upgrade done") {
			t.Fatalf("upgrade %d: exit %d\n%s", i, code, out)
		}
		st := u.MustStatus()
		if seen[st.PID] || st.Master == nil || st.Master.Upgrades != i {
			t.Fatalf("upgrade %d: master pid %d (seen: %v), status %+v", i, st.PID, seen, st.Master)
		}
		seen[st.PID] = true
		pid := e2etest.ReadPIDFile(t, filepath.Join(u.Dir, "master.pid"))
		if pid != st.PID {
			t.Fatalf("pidfile holds %d, the master is %d", pid, st.PID)
		}
	}
	l.Stop(t)
	slow.Stop(t)
	if failed := stopPolling(); failed > 0 || *polls == 0 {
		t.Fatalf("baton status during the upgrades: %d of %d failed", failed, *polls)
	}
	st := u.MustStatus()
	if st.Generation != 6 || e2etest.CountState(st, supervisor.Ready) != 2 {
		t.Fatalf("after 5 upgrades: generation %d, workers %+v", st.Generation, st.Workers)
	}
	for pid := range seen {
		if pid != st.PID {
			e2etest.WaitFor(t, "old masters to exit", 30*time.Second, func() bool { return !e2etest.Alive(pid) })
		}
	}
}

// The new binary may be anything at the old path: one that exits at once,
// one that never gets ready; the old master keeps serving and says why.
// Then a good one, with another version string, takes over.
func TestUpgradeToABrokenBinaryKeepsTheOldMaster(t *testing.T) {
	rel := t.TempDir()
	bin := filepath.Join(rel, "baton")
	copyFile(t, e2etest.BatonBin, bin)
	u := e2etest.StartUpgradable(t, bin, 1, "--name", "broken", "-w", "1", "--ready-timeout", "2s", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	before := u.MustStatus()
	l := e2etest.StartLoad(t, before.Sockets[0].Address, "/", 8)
	replace := func(body string) {
		tmp := bin + ".new"
		if err := os.WriteFile(tmp, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, bin); err != nil { // a deploy renames; the running file stays
			t.Fatal(err)
		}
	}
	v2 := filepath.Join(t.TempDir(), "baton-v2")
	buildBaton(t, v2, "-X github.com/batonhq/baton/internal/wire.handoverFormat=2")
	// passesCheck is a binary whose `upgrade-check` is the real one and
	// whose `run` is the given shell line.
	passesCheck := func(run string) string {
		return "#!/bin/sh\nif [ \"$1\" = upgrade-check ]; then exec " + e2etest.BatonBin + " \"$@\"; fi\n" + run + "\n"
	}
	for _, c := range []struct{ body, why string }{
		{"#!/bin/sh\necho 'cannot start' >&2\nexit 3\n", "cannot take over (`upgrade-check` exit 3): cannot start"},
		{"#!/bin/sh\nexec sleep 600\n", "did not answer `upgrade-check` within"},
		{"#!/bin/sh\nexec " + v2 + " \"$@\"\n", "unknown hand-over version 1: this baton reads version 2"},
		{passesCheck("echo 'crashed' >&2; exit 3"), "exited before it was ready"},
		{passesCheck("exec sleep 600"), "was not ready within"},
		{passesCheck("exec " + v2 + " \"$@\""), "refused to take over: unknown hand-over version 1"},
	} {
		replace(c.body)
		out, code := u.Upgrade()
		if code != 1 || !strings.Contains(out, c.why) || !strings.Contains(out, "old master keeps serving") {
			t.Fatalf("upgrade to a broken binary: exit %d, want 1 saying %q:\n%s", code, c.why, out)
		}
		if st := u.MustStatus(); st.PID != before.PID || e2etest.CountState(st, supervisor.Ready) != 1 || st.Master.UpgradesFailed == 0 {
			t.Fatalf("the old master changed: %+v", st)
		}
	}
	buildBaton(t, bin+".new", "-X main.version=v9.9.9-test")
	if err := os.Rename(bin+".new", bin); err != nil {
		t.Fatal(err)
	}
	if out, code := u.Upgrade(); code != 0 {
		t.Fatalf("the next upgrade: exit %d\n%s", code, out)
	}
	if st := u.MustStatus(); st.PID == before.PID || st.Master.Version != "v9.9.9-test" {
		t.Fatalf("after the good upgrade: pid %d version %q", st.PID, st.Master.Version)
	}
	l.Stop(t)
}

// A new --listen in the config is bound by the new master; one removed is
// closed once the old master and its workers are gone.
func TestUpgradeAddsAndRemovesAListenSocket(t *testing.T) {
	dir := t.TempDir()
	web, extra := e2etest.FreeAddr(t), e2etest.FreeAddr(t)
	cfg := filepath.Join(dir, "baton.toml")
	write := func(listen string) {
		body := "name = \"lst\"\nworkers = 1\nlisten = [" + listen + "]\ncommand = [\"" + e2etest.HelloBin + "\"]\n"
		if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	listening := func(addr string) bool {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
	write(`"http=` + web + `"`)
	u := e2etest.StartUpgradable(t, e2etest.BatonBin, 1, "-c", cfg)
	if listening(extra) {
		t.Fatalf("%s listens before it was configured", extra)
	}
	write(`"http=` + web + `", "extra=` + extra + `"`)
	if out, code := u.Upgrade(); code != 0 {
		t.Fatalf("upgrade adding a socket: exit %d\n%s", code, out)
	}
	if !listening(extra) {
		t.Fatalf("%s does not listen after the upgrade that added it", extra)
	}
	old := u.MustStatus().PID
	write(`"http=` + web + `"`)
	if out, code := u.Upgrade(); code != 0 {
		t.Fatalf("upgrade removing a socket: exit %d\n%s", code, out)
	}
	e2etest.WaitFor(t, "the old master to exit", 30*time.Second, func() bool { return !e2etest.Alive(old) })
	if _, err := e2etest.OneShotGet(web); err != nil {
		t.Fatalf("%s stopped serving: %v", web, err)
	}
	e2etest.WaitFor(t, "the removed socket to close", 30*time.Second, func() bool { return !listening(extra) })
	if st := u.MustStatus(); len(st.Sockets) != 1 || st.Sockets[0].Name != "http" {
		t.Fatalf("sockets %+v", st.Sockets)
	}
}

func TestSIGHUPUpgradesTheMaster(t *testing.T) {
	u := e2etest.StartUpgradable(t, e2etest.BatonBin, 1, "--name", "hup", "-w", "1", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	old := u.MustStatus().PID
	if err := syscall.Kill(old, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	e2etest.WaitFor(t, "a new master", 30*time.Second, func() bool {
		st, err := u.Status()
		return err == nil && st.PID != old && e2etest.CountState(st, supervisor.Ready) == 1
	})
	e2etest.WaitFor(t, "the old master to exit", 30*time.Second, func() bool { return !e2etest.Alive(old) })
	if !bytes.Contains([]byte(u.Output()), []byte("took over from the old master")) {
		t.Fatalf("no hand-over in the log:\n%s", u.Output())
	}
}

// Until the new master of an upgrade has every worker ready, the old one
// answers every client on the control socket they share: a stop, a reload
// or a scale never reaches a master that is still starting (and that a
// failed upgrade would kill).
func TestOldMasterAnswersUntilTheNewOneIsReady(t *testing.T) {
	u := e2etest.StartUpgradable(t, e2etest.BatonBin, 2, "--name", "answers", "-w", "2", "--ready", "delay:2s", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	old := u.MustStatus().PID
	if err := syscall.Kill(old, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	during := 0
	e2etest.WaitFor(t, "the new master to take over", 60*time.Second, func() bool {
		st, err := u.Status()
		switch {
		case err != nil:
			return false
		case st.PID == old:
			if st.Master != nil && st.Master.UpgradingTo != 0 {
				during++
			}
			return false
		case e2etest.CountState(st, supervisor.Ready) != 2:
			t.Fatalf("the new master (pid %d) answered before its workers were ready: %+v", st.PID, st.Workers)
		}
		return true
	})
	if during == 0 {
		t.Fatal("no status was answered by the old master during the upgrade")
	}
}

// A stop during an upgrade stops the master line: the new master, still
// starting, is killed with its workers, and `baton upgrade` says it was
// abandoned; nothing outlives the stop.
func TestStopDuringAnUpgradeStopsTheNewMasterToo(t *testing.T) {
	u := e2etest.StartUpgradable(t, e2etest.BatonBin, 2, "--name", "stopup", "-w", "2", "--ready", "delay:5s", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	old := u.MustStatus().PID
	if err := syscall.Kill(old, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var next int
	e2etest.WaitFor(t, "the new master to start", 30*time.Second, func() bool {
		st, err := u.Status()
		if err == nil && st.PID == old && st.Master != nil {
			next = st.Master.UpgradingTo
		}
		return next != 0
	})
	t.Cleanup(func() { _ = syscall.Kill(next, syscall.SIGKILL) }) // should the test fail
	newWorkers := regexp.MustCompile(`msg="worker started" slot=\d+ pid=(\d+) gen=2`)
	var started [][]string
	e2etest.WaitFor(t, "the new master's workers to start", 30*time.Second, func() bool {
		started = newWorkers.FindAllStringSubmatch(u.Output(), -1)
		return len(started) == 2
	})
	_, stderr, code := e2etest.RunBaton(t, u.Env, "stop", "--control", u.Ctl.Path, "--timeout", "60s")
	if code != 0 {
		t.Fatalf("stop during an upgrade: exit %d: %s", code, stderr)
	}
	e2etest.WaitFor(t, "both masters to exit", 30*time.Second, func() bool { return !e2etest.Alive(old) && !e2etest.Alive(next) })
	out := u.Output()
	if !strings.Contains(out, "upgrade abandoned") || strings.Contains(out, "took over from the old master") {
		t.Fatalf("the new master was not abandoned:\n%s", out)
	}
	for _, m := range started {
		pid, _ := strconv.Atoi(m[1])
		e2etest.WaitFor(t, "the new master's workers to exit", 30*time.Second, func() bool { return !e2etest.Alive(pid) })
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// buildBaton builds cmd/baton at path with the race detector and the
// given -ldflags.
func buildBaton(t *testing.T, path, ldflags string) {
	t.Helper()
	build := exec.Command("go", "build", "-race", "-ldflags", ldflags, "-o", path, e2etest.ModulePath("cmd", "baton"))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
}

// pollStatus asks for the status over and over until the returned stop is
// called, which returns how many of the answers failed; *n counts them all.
func pollStatus(u *e2etest.UpgradableMaster) (n *int, stop func() int) {
	done, failed := make(chan struct{}), make(chan int)
	n = new(int)
	go func() {
		bad := 0
		for {
			select {
			case <-done:
				failed <- bad
				return
			default:
			}
			if _, err := u.Status(); err != nil {
				bad++
				u.T.Logf("status during an upgrade: %v", err)
			}
			*n++
		}
	}()
	return n, func() int { close(done); return <-failed }
}
