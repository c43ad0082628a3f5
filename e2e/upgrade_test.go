package e2e

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/control"
	"github.com/batonhq/baton/internal/supervisor"
)

// upMaster is a master line across upgrades: the process the test started
// goes away after the first upgrade, so everything goes through the
// control socket, and the output goes to a file (a pipe read by the first
// master would close with it).
type upMaster struct {
	t     testing.TB
	ctl   *control.Client
	env   []string
	log   string
	dir   string
	first int // the pid of the process the test started
}

// startUpgradable runs `BIN run ARGS...` in its own directory, output to a
// file, and waits for ready workers; the line is stopped at the end.
func startUpgradable(t testing.TB, bin string, ready int, args ...string) *upMaster {
	t.Helper()
	u := launchUpgradable(t, nil, bin, nil, args...)
	u.waitWorkers(ready)
	return u
}

// launchUpgradable starts `BIN [pre...] run --control CTL ARGS...` with env
// added to the test's environment and returns at once.
func launchUpgradable(t testing.TB, env []string, bin string, pre []string, args ...string) *upMaster {
	t.Helper()
	dir := runtimeDir(t)
	u := &upMaster{t: t, dir: dir, log: filepath.Join(dir, "baton.log"),
		env: append(os.Environ(), "XDG_RUNTIME_DIR="+dir, "GORACE=atexit_sleep_ms=0")}
	out, err := os.Create(u.log)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	ctl := filepath.Join(dir, "c.sock")
	argv := append(append(append([]string{}, pre...), "run", "--control", ctl), args...)
	cmd := exec.Command(bin, argv...)
	cmd.Env, cmd.Stdout, cmd.Stderr, cmd.Dir = append(u.env, env...), out, out, dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait() }()
	u.first = cmd.Process.Pid
	u.ctl = control.NewClient(ctl)
	t.Cleanup(u.stop)
	return u
}

// waitWorkers waits until the master answers with n ready workers.
func (u *upMaster) waitWorkers(n int) supervisor.Status {
	u.t.Helper()
	var st supervisor.Status
	waitFor(u.t, "ready workers", 20*time.Second, func() bool {
		var err error
		st, err = u.status()
		return err == nil && countState(st, supervisor.Ready) == n && len(st.Workers) == n
	})
	return st
}

func (u *upMaster) status() (supervisor.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return u.ctl.Status(ctx)
}

func (u *upMaster) mustStatus() supervisor.Status {
	u.t.Helper()
	st, err := u.status()
	if err != nil {
		u.t.Fatalf("status: %v\n%s", err, u.output())
	}
	return st
}

func (u *upMaster) output() string {
	b, _ := os.ReadFile(u.log)
	return string(b)
}

// upgrade runs `baton upgrade` and returns its output and exit code.
func (u *upMaster) upgrade() (string, int) {
	u.t.Helper()
	stdout, stderr, code := runBaton(u.t, u.env, "upgrade", "--control", u.ctl.Path)
	return stdout + stderr, code
}

// stop stops whichever master now holds the line, and checks that none of
// them reported a data race.
func (u *upMaster) stop() {
	_, _, _ = runBaton(u.t, u.env, "stop", "--control", u.ctl.Path, "--timeout", "60s")
	if strings.Contains(u.output(), "WARNING: DATA RACE") {
		u.t.Errorf("the race detector fired in a master:\n%s", u.output())
	}
	if u.t.Failed() {
		u.t.Logf("masters' output:\n%s", u.output())
	}
}

func TestUpgradesUnderLoadFailNothing(t *testing.T) {
	u := startUpgradable(t, batonBin, 2, "--name", "up", "-w", "2", "-l", "127.0.0.1:0", "--pidfile", "master.pid", "--", helloBin)
	first := u.mustStatus()
	l := startLoad(t, first.Sockets[0].Address, "/", 16)
	slow := startLoad(t, first.Sockets[0].Address, "/?sleep=50ms", 4)
	polls, stopPolling := pollStatus(u)
	seen := map[int]bool{first.PID: true}
	for i := 1; i <= 5; i++ {
		out, code := u.upgrade()
		if code != 0 || !strings.Contains(out, "upgrade done") {
			t.Fatalf("upgrade %d: exit %d\n%s", i, code, out)
		}
		st := u.mustStatus()
		if seen[st.PID] || st.Master == nil || st.Master.Upgrades != i {
			t.Fatalf("upgrade %d: master pid %d (seen: %v), status %+v", i, st.PID, seen, st.Master)
		}
		seen[st.PID] = true
		pid := readPid(t, filepath.Join(u.dir, "master.pid"))
		if pid != st.PID {
			t.Fatalf("pidfile holds %d, the master is %d", pid, st.PID)
		}
	}
	l.stop(t)
	slow.stop(t)
	if failed := stopPolling(); failed > 0 || *polls == 0 {
		t.Fatalf("baton status during the upgrades: %d of %d failed", failed, *polls)
	}
	st := u.mustStatus()
	if st.Generation != 6 || countState(st, supervisor.Ready) != 2 {
		t.Fatalf("after 5 upgrades: generation %d, workers %+v", st.Generation, st.Workers)
	}
	for pid := range seen {
		if pid != st.PID {
			waitFor(t, "old masters to exit", 30*time.Second, func() bool { return !alive(pid) })
		}
	}
}

// The new binary may be anything at the old path: one that exits at once,
// one that never gets ready; the old master keeps serving and says why.
// Then a good one, with another version string, takes over.
func TestUpgradeToABrokenBinaryKeepsTheOldMaster(t *testing.T) {
	rel := t.TempDir()
	bin := filepath.Join(rel, "baton")
	copyFile(t, batonBin, bin)
	u := startUpgradable(t, bin, 1, "--name", "broken", "-w", "1", "--ready-timeout", "2s", "-l", "127.0.0.1:0", "--", helloBin)
	before := u.mustStatus()
	l := startLoad(t, before.Sockets[0].Address, "/", 8)
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
		return "#!/bin/sh\nif [ \"$1\" = upgrade-check ]; then exec " + batonBin + " \"$@\"; fi\n" + run + "\n"
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
		out, code := u.upgrade()
		if code != 1 || !strings.Contains(out, c.why) || !strings.Contains(out, "old master keeps serving") {
			t.Fatalf("upgrade to a broken binary: exit %d, want 1 saying %q:\n%s", code, c.why, out)
		}
		if st := u.mustStatus(); st.PID != before.PID || countState(st, supervisor.Ready) != 1 || st.Master.UpgradesFailed == 0 {
			t.Fatalf("the old master changed: %+v", st)
		}
	}
	buildBaton(t, bin+".new", "-X main.version=v9.9.9-test")
	if err := os.Rename(bin+".new", bin); err != nil {
		t.Fatal(err)
	}
	if out, code := u.upgrade(); code != 0 {
		t.Fatalf("the next upgrade: exit %d\n%s", code, out)
	}
	if st := u.mustStatus(); st.PID == before.PID || st.Master.Version != "v9.9.9-test" {
		t.Fatalf("after the good upgrade: pid %d version %q", st.PID, st.Master.Version)
	}
	l.stop(t)
}

// A new --listen in the config is bound by the new master; one removed is
// closed once the old master and its workers are gone.
func TestUpgradeAddsAndRemovesAListenSocket(t *testing.T) {
	dir := t.TempDir()
	web, extra := freeAddr(t), freeAddr(t)
	cfg := filepath.Join(dir, "baton.toml")
	write := func(listen string) {
		body := "name = \"lst\"\nworkers = 1\nlisten = [" + listen + "]\ncommand = [\"" + helloBin + "\"]\n"
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
	u := startUpgradable(t, batonBin, 1, "-c", cfg)
	if listening(extra) {
		t.Fatalf("%s listens before it was configured", extra)
	}
	write(`"http=` + web + `", "extra=` + extra + `"`)
	if out, code := u.upgrade(); code != 0 {
		t.Fatalf("upgrade adding a socket: exit %d\n%s", code, out)
	}
	if !listening(extra) {
		t.Fatalf("%s does not listen after the upgrade that added it", extra)
	}
	old := u.mustStatus().PID
	write(`"http=` + web + `"`)
	if out, code := u.upgrade(); code != 0 {
		t.Fatalf("upgrade removing a socket: exit %d\n%s", code, out)
	}
	waitFor(t, "the old master to exit", 30*time.Second, func() bool { return !alive(old) })
	if _, err := oneShot(web); err != nil {
		t.Fatalf("%s stopped serving: %v", web, err)
	}
	waitFor(t, "the removed socket to close", 30*time.Second, func() bool { return !listening(extra) })
	if st := u.mustStatus(); len(st.Sockets) != 1 || st.Sockets[0].Name != "http" {
		t.Fatalf("sockets %+v", st.Sockets)
	}
}

func TestSIGHUPUpgradesTheMaster(t *testing.T) {
	u := startUpgradable(t, batonBin, 1, "--name", "hup", "-w", "1", "-l", "127.0.0.1:0", "--", helloBin)
	old := u.mustStatus().PID
	if err := syscall.Kill(old, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a new master", 30*time.Second, func() bool {
		st, err := u.status()
		return err == nil && st.PID != old && countState(st, supervisor.Ready) == 1
	})
	waitFor(t, "the old master to exit", 30*time.Second, func() bool { return !alive(old) })
	if !bytes.Contains([]byte(u.output()), []byte("took over from the old master")) {
		t.Fatalf("no hand-over in the log:\n%s", u.output())
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

// freeAddr is a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// buildBaton builds cmd/baton at path with the race detector and the
// given -ldflags.
func buildBaton(t *testing.T, path, ldflags string) {
	t.Helper()
	build := exec.Command("go", "build", "-race", "-ldflags", ldflags, "-o", path, "../cmd/baton")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
}

// pollStatus asks for the status over and over until the returned stop is
// called, which returns how many of the answers failed; *n counts them all.
func pollStatus(u *upMaster) (n *int, stop func() int) {
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
			if _, err := u.status(); err != nil {
				bad++
				u.t.Logf("status during an upgrade: %v", err)
			}
			*n++
		}
	}()
	return n, func() int { close(done); return <-failed }
}
