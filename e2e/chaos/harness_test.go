package chaos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/control"
	"github.com/batonhq/baton/internal/loadtest"
	"github.com/batonhq/baton/internal/supervisor"
)

// Binaries built once for all tests.
var batonBin, helloBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "baton-chaos-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	batonBin, helloBin = filepath.Join(dir, "baton"), filepath.Join(dir, "hello")
	// The masters run under the race detector: their goroutines are checked too.
	for bin, args := range map[string][]string{batonBin: {"-race", "../../cmd/baton"}, helloBin: {"../../examples/hello"}} {
		if out, err := exec.Command("go", append([]string{"build", "-o", bin}, args...)...).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", bin, err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
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

// upMaster is a master line across upgrades: everything goes through the
// control socket, and the output goes to a file that every master of the
// line appends to.
type upMaster struct {
	t   testing.TB
	ctl *control.Client
	env []string
	log string
	dir string
}

// startUpgradable runs `BIN run --control CTL ARGS...` in its own
// directory and waits for `ready` ready workers; the line is stopped at
// the end of the test.
func startUpgradable(t testing.TB, bin string, ready int, args ...string) *upMaster {
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
	cmd := exec.Command(bin, append([]string{"run", "--control", ctl}, args...)...)
	cmd.Env, cmd.Stdout, cmd.Stderr, cmd.Dir = u.env, out, out, dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait() }()
	u.ctl = control.NewClient(ctl)
	t.Cleanup(u.stop)
	u.waitWorkers(ready)
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
	cmd := exec.Command(batonBin, "upgrade", "--control", u.ctl.Path)
	cmd.Env = u.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		u.t.Errorf("baton upgrade: %v", err)
		return out.String(), -1
	}
	return out.String(), 0
}

// stop stops whichever master now holds the line, and checks that none of
// them reported a data race.
func (u *upMaster) stop() {
	cmd := exec.Command(batonBin, "stop", "--control", u.ctl.Path, "--timeout", "60s")
	cmd.Env = u.env
	_ = cmd.Run()
	if strings.Contains(u.output(), "WARNING: DATA RACE") {
		u.t.Errorf("the race detector fired in a master:\n%s", u.output())
	}
	if u.t.Failed() {
		u.t.Logf("masters' output:\n%s", u.output())
	}
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

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	p, ok := readProc(pid)
	return ok && p.state != 'Z'
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

// pids of every worker in st.
func pids(st supervisor.Status) []int {
	out := make([]int, 0, len(st.Workers))
	for _, w := range st.Workers {
		out = append(out, w.PID)
	}
	return out
}

// load runs a never-retrying keep-alive load until stop is called.
type load struct {
	cancel context.CancelFunc
	done   chan loadtest.Result
}

func startLoad(t *testing.T, addr, path string, conns int) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{cancel: cancel, done: make(chan loadtest.Result, 1)}
	go func() {
		res, err := loadtest.Run(ctx, loadtest.Options{Addr: addr, Path: path, Conns: conns})
		if err != nil {
			t.Errorf("load: %v", err)
		}
		l.done <- res
	}()
	return l
}

// stop ends the load and fails the test if any request failed.
func (l *load) stop(t *testing.T) loadtest.Result {
	l.cancel()
	res := <-l.done
	if res.Failed != 0 {
		t.Errorf("%d requests failed: %v %v", res.Failed, res.Errors, res.FirstErrors)
	}
	if res.OK == 0 {
		t.Error("no request succeeded: the load did not run")
	}
	return res
}
