package e2etest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/control"
	"github.com/batonhq/baton/internal/supervisor"
)

// UpgradableMaster is a master line across upgrades: the process the test
// started goes away after the first upgrade, so everything goes through
// the control socket, and the output goes to a file that every master of
// the line appends to (a pipe read by the first master would close with
// it).
type UpgradableMaster struct {
	T     testing.TB
	Ctl   *control.Client
	Env   []string // the line's environment, for client commands
	Log   string   // the file holding every master's output
	Dir   string   // the line's runtime and working directory
	First int      // the pid of the process the test started
}

// StartUpgradable runs `BIN run ARGS...` in its own directory, output to a
// file, and waits for ready workers; the line is stopped at the end.
func StartUpgradable(t testing.TB, bin string, ready int, args ...string) *UpgradableMaster {
	t.Helper()
	u := LaunchUpgradable(t, nil, bin, nil, args...)
	u.WaitWorkers(ready)
	return u
}

// LaunchUpgradable starts `BIN [pre...] run --control CTL ARGS...` with env
// added to the test's environment and returns at once.
func LaunchUpgradable(t testing.TB, env []string, bin string, pre []string, args ...string) *UpgradableMaster {
	t.Helper()
	dir := RuntimeDir(t)
	u := &UpgradableMaster{T: t, Dir: dir, Log: filepath.Join(dir, "baton.log"),
		Env: append(os.Environ(), "XDG_RUNTIME_DIR="+dir, "GORACE=atexit_sleep_ms=0")}
	out, err := os.Create(u.Log)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	ctl := filepath.Join(dir, "c.sock")
	argv := append(append(append([]string{}, pre...), "run", "--control", ctl), args...)
	cmd := exec.Command(bin, argv...)
	cmd.Env, cmd.Stdout, cmd.Stderr, cmd.Dir = append(u.Env, env...), out, out, dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait() }()
	u.First = cmd.Process.Pid
	u.Ctl = control.NewClient(ctl)
	t.Cleanup(u.Stop)
	return u
}

// WaitWorkers waits until the master answers with n ready workers.
func (u *UpgradableMaster) WaitWorkers(n int) supervisor.Status {
	u.T.Helper()
	var st supervisor.Status
	WaitFor(u.T, "ready workers", 20*time.Second, func() bool {
		var err error
		st, err = u.Status()
		return err == nil && CountState(st, supervisor.Ready) == n && len(st.Workers) == n
	})
	return st
}

// Status asks whichever master now holds the line for its status.
func (u *UpgradableMaster) Status() (supervisor.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return u.Ctl.Status(ctx)
}

// MustStatus is Status, failing the test on error.
func (u *UpgradableMaster) MustStatus() supervisor.Status {
	u.T.Helper()
	st, err := u.Status()
	if err != nil {
		u.T.Fatalf("status: %v\n%s", err, u.Output())
	}
	return st
}

// Output is everything the line's masters have written so far.
func (u *UpgradableMaster) Output() string {
	b, _ := os.ReadFile(u.Log)
	return string(b)
}

// Upgrade runs `baton upgrade` and returns its output and exit code.
func (u *UpgradableMaster) Upgrade() (string, int) {
	u.T.Helper()
	stdout, stderr, code := RunBaton(u.T, u.Env, "upgrade", "--control", u.Ctl.Path)
	return stdout + stderr, code
}

// Stop stops whichever master now holds the line, and checks that none of
// them reported a data race; it runs at the end of the test too.
func (u *UpgradableMaster) Stop() {
	_, _, _ = RunBaton(u.T, u.Env, "stop", "--control", u.Ctl.Path, "--timeout", "60s")
	if strings.Contains(u.Output(), "WARNING: DATA RACE") {
		u.T.Errorf("the race detector fired in a master:\n%s", u.Output())
	}
	if u.T.Failed() {
		u.T.Logf("masters' output:\n%s", u.Output())
	}
}

// FreeAddr is a loopback address with a port nothing listens on now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
