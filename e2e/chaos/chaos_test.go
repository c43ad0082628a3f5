package chaos

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
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

// Chaos under load (issue 14, item 1). For BATON_CHAOS_DURATION (60 s by
// default), two actors work on a master at random, seeded: one kills
// workers with SIGKILL and freezes others with SIGSTOP for 100-500 ms,
// the other rolls the workers out (`baton reload`), scales them up and
// down (`baton scale`) and, once, upgrades the master (`baton upgrade`).
// A client that never retries sends requests all along.
//
// Both modes run at once, each with its own master, for the whole
// duration: every mode gets the full 60 s of chaos the issue asks for,
// the wall time stays near 80 s (not 2 × 60 s), and each master is
// tested on a machine that the other one keeps busy, which is where
// timing bugs show.
//
// Asserted: the master never dies (the last master of the line answers,
// and every replaced one exited only after an upgrade handed over); after
// the chaos `baton status --json` shows N ready workers within a deadline
// and they serve; no process is left behind (every process carrying the
// test's marker variable is a worker the master lists, the master's
// children are its workers and one guardian, no zombie, and after `baton
// stop` nothing remains); no descriptor is leaked (the master's count at
// rest comes back to the count it had at rest with the same workers: the
// first master's right after its start, an upgraded master's right after
// it took over, since a new master holds a different set); and requests
// fail only where they may. In inherit mode a request may fail only if it
// was in flight on a worker killed with SIGKILL (between the SIGKILL and
// the moment the worker was seen dead, plus 200 ms), or if it timed out
// while a worker was stopped; behind --proxy http, GETs must not fail at
// all (the proxy retries an idempotent request whose worker died).
func TestChaosUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos runs for a minute; skipped with -short")
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("BATON_CHAOS_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("BATON_CHAOS_SEED: %v", err)
		}
	}
	d := envDuration(t, "BATON_CHAOS_DURATION", 60*time.Second)
	t.Logf("chaos seed %d, %s per mode (replay: BATON_CHAOS_SEED=%d go test -race -run TestChaosUnderLoad ./e2e/chaos/)", seed, d, seed)
	for i, mode := range chaosModes() {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			c := startChaos(t, mode, 3)
			c.run(seed+uint64(i), d)
			c.check()
		})
	}
}

// chaosMode is how one master runs and is loaded.
type chaosMode struct {
	name    string
	args    []string // mode flags, then -- and the command
	method  string   // of the load's requests
	retried bool     // the master retries failed idempotent requests: none may fail
}

func chaosModes() []chaosMode {
	return []chaosMode{
		{name: "inherit", args: []string{"--", e2etest.HelloBin}, method: "POST"},
		{name: "proxy-http", args: []string{"--mode", "proxy", "--proxy", "http", "--", e2etest.HelloBin, "-addr", "127.0.0.1:{port}"},
			method: "GET", retried: true},
	}
}

func envDuration(t *testing.T, key string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a Go duration such as 5m", key, v)
	}
	return d
}

// chaos is one master under chaos and everything the test learns about it.
type chaos struct {
	t      *testing.T
	mode   chaosMode
	u      *e2etest.UpgradableMaster
	n      int    // workers at rest
	marker string // in every worker's environment
	load   *chaosLoad
	start  time.Time

	// quiet is held for reading by each signal action and for writing
	// while the master is measured at rest.
	quiet sync.RWMutex

	mu        sync.Mutex
	kills     []span // from a SIGKILL until the worker was seen dead
	stops     []span // SIGSTOP to SIGCONT
	stopped   map[int]bool
	counts    map[string]int
	baseline  map[int]int // master pid → descriptors at rest
	masters   []int       // every master of the line, in order
	guardians map[int]bool
}

func startChaos(t *testing.T, mode chaosMode, n int) *chaos {
	c := &chaos{t: t, mode: mode, n: n, marker: fmt.Sprintf("BATON_CHAOS_MARK=%s-%d", mode.name, time.Now().UnixNano()),
		stopped: map[int]bool{}, counts: map[string]int{}, baseline: map[int]int{}, guardians: map[int]bool{}}
	args := append([]string{"--name", "chaos-" + mode.name, "-w", strconv.Itoa(n), "-l", "127.0.0.1:0",
		"--env", c.marker, "--stop-timeout", "10s"}, mode.args...)
	c.u = e2etest.StartUpgradable(t, e2etest.BatonBin, n, args...)
	st := c.u.MustStatus()
	c.masters = append(c.masters, st.PID)
	if !c.restBaseline() {
		t.FailNow()
	}
	c.load = newChaosLoad(t, loadtest.Options{Addr: st.Sockets[0].Address, Method: mode.method, Path: "/?sleep=1ms", Conns: 4})
	return c
}

// run lets both actors loose under load for d.
func (c *chaos) run(seed uint64, d time.Duration) {
	c.start = time.Now()
	c.load.start()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.signals(ctx, rand.New(rand.NewPCG(seed, 1))) }()
	go func() { defer wg.Done(); c.control(ctx, rand.New(rand.NewPCG(seed, 2)), d) }()
	wg.Wait()
	c.contAll()
	c.load.pause()
}

// between is a random duration in [lo, hi).
func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rng.Int64N(int64(hi-lo)))
}

// sleepCtx sleeps d, false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (c *chaos) count(what string) {
	c.mu.Lock()
	c.counts[what]++
	c.mu.Unlock()
}

// signals kills or freezes a random worker every 150-600 ms.
func (c *chaos) signals(ctx context.Context, rng *rand.Rand) {
	for sleepCtx(ctx, between(rng, 150*time.Millisecond, 600*time.Millisecond)) {
		c.quiet.RLock()
		st, err := c.u.Status()
		switch {
		case err != nil:
			c.count("status errors (the master busy or handing over)")
		case rng.IntN(3) == 0 && e2etest.CountState(st, supervisor.Ready) >= 2:
			// Never the last ready worker: the test is about baton, not
			// about a pool with nothing left to serve.
			c.kill9(st.Workers[rng.IntN(len(st.Workers))].PID)
		case len(st.Workers) > 0:
			c.stopCont(ctx, st.Workers[rng.IntN(len(st.Workers))].PID, between(rng, 100*time.Millisecond, 500*time.Millisecond))
		}
		c.quiet.RUnlock()
	}
}

// kill9 kills pid and records the window in which requests may fail.
func (c *chaos) kill9(pid int) {
	if pid <= 0 {
		return
	}
	from := time.Now()
	if syscall.Kill(pid, syscall.SIGKILL) != nil {
		return
	}
	deadline := time.Now().Add(10 * time.Second)
	for e2etest.Alive(pid) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if e2etest.Alive(pid) {
		c.t.Errorf("worker %d still alive 10s after SIGKILL", pid)
	}
	c.mu.Lock()
	c.kills = append(c.kills, span{from, time.Now().Add(200 * time.Millisecond)})
	c.counts["kill -9 of a worker"]++
	c.mu.Unlock()
}

// stopCont freezes pid for d.
func (c *chaos) stopCont(ctx context.Context, pid int, d time.Duration) {
	if pid <= 0 || syscall.Kill(pid, syscall.SIGSTOP) != nil {
		return
	}
	from := time.Now()
	c.mu.Lock()
	c.stopped[pid] = true
	c.mu.Unlock()
	sleepCtx(ctx, d)
	_ = syscall.Kill(pid, syscall.SIGCONT)
	c.mu.Lock()
	delete(c.stopped, pid)
	c.stops = append(c.stops, span{from, time.Now()})
	c.counts["SIGSTOP, then SIGCONT, of a worker"]++
	c.mu.Unlock()
}

// contAll resumes any worker still stopped (none, unless an actor broke off).
func (c *chaos) contAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for pid := range c.stopped {
		_ = syscall.Kill(pid, syscall.SIGCONT)
	}
}

// control rolls out, scales, and upgrades the master once, at a random
// moment in the first half so the new master lives through chaos too.
func (c *chaos) control(ctx context.Context, rng *rand.Rand, d time.Duration) {
	upgradeAt := time.Now().Add(d * time.Duration(20+rng.IntN(30)) / 100)
	upgraded := false
	for sleepCtx(ctx, between(rng, 200*time.Millisecond, 1200*time.Millisecond)) {
		switch {
		case !upgraded && time.Now().After(upgradeAt):
			upgraded = true
			c.upgrade()
		case rng.IntN(2) == 0:
			c.reload()
		default:
			c.scale(max(1, c.n-1) + rng.IntN(4))
		}
	}
}

// cli runs a client command against the master's line.
func (c *chaos) cli(args ...string) (string, int) {
	cmd := exec.Command(e2etest.BatonBin, append(args, "--control", c.u.Ctl.Path)...)
	cmd.Env = c.u.Env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		c.t.Errorf("baton %v: %v", args, err)
		return out.String(), -1
	}
	return out.String(), 0
}

// reload rolls the workers out; it may fail only because chaos killed a
// new worker before it was ready.
func (c *chaos) reload() {
	out, code := c.cli("reload")
	switch {
	case code == 0:
		c.count("rollout done")
	case code == 1 && strings.Contains(out, "exited before it was ready (signal killed)"):
		c.count("rollout failed: chaos killed its new worker")
	default:
		c.t.Errorf("baton reload under chaos: exit %d\n%s", code, out)
	}
}

func (c *chaos) scale(n int) {
	if out, code := c.cli("scale", strconv.Itoa(n)); code != 0 {
		c.t.Errorf("baton scale %d under chaos: exit %d\n%s", n, code, out)
		return
	}
	c.count("scale")
}

// upgrade replaces the master under chaos, then measures the new one at
// rest (signals and load paused) for its own descriptor baseline.
func (c *chaos) upgrade() {
	old := c.masters[len(c.masters)-1]
	out, code := c.cli("upgrade")
	if code != 0 {
		c.t.Errorf("baton upgrade under chaos: exit %d\n%s", code, out)
		return
	}
	c.count("master upgrade")
	c.quiet.Lock()
	defer c.quiet.Unlock()
	c.load.pause()
	defer c.load.start()
	st, err := c.u.Status()
	if err != nil {
		c.t.Errorf("status after the upgrade: %v", err)
		return
	}
	c.mu.Lock()
	c.masters = append(c.masters, st.PID)
	c.mu.Unlock()
	if !poll(c.t, "the old master to exit", 60*time.Second, func() bool { return !e2etest.Alive(old) }) {
		return
	}
	c.restBaseline()
}

// restBaseline records the master's descriptor count at rest, its
// baseline for the check after the chaos.
func (c *chaos) restBaseline() bool {
	st, fds, ok := c.atRest()
	if ok {
		c.mu.Lock()
		c.baseline[st.PID] = fds
		c.mu.Unlock()
	}
	return ok
}

// poll is waitFor for goroutines other than the test's: it reports a
// timeout with Errorf and returns false.
func poll(t *testing.T, what string, timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("timed out after %s waiting for %s", timeout, what)
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
