package chaos

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/admin"
	"github.com/batonhq/baton/internal/e2etest"
	"github.com/batonhq/baton/internal/supervisor"
)

// Soak (issue 14, item 2), behind BATON_SOAK=1: BATON_SOAK_ROLLOUTS
// rollouts (2,000) on one master, then BATON_SOAK_UPGRADES master
// upgrades (200), in a row, under a never-retrying load. The master's
// descriptors, goroutines (go_goroutines on --admin /metrics), threads
// and RSS are sampled all along on whichever master serves: the late
// samples may not grow past the early ones (generous slack: this finds
// leaks, not noise); no zombie child is left; the control directory holds
// nothing but the socket, its lock and the serving master's notify
// directory with one socket per worker; no request fails. The master is
// built without the race detector: this is about the binary users run.
func TestSoakRolloutsAndUpgrades(t *testing.T) {
	if os.Getenv("BATON_SOAK") != "1" {
		t.Skip("soak: set BATON_SOAK=1 to run it (BATON_SOAK_ROLLOUTS, default 2000, and BATON_SOAK_UPGRADES, default 200)")
	}
	rollouts, upgrades := envCount(t, "BATON_SOAK_ROLLOUTS", 2000), envCount(t, "BATON_SOAK_UPGRADES", 200)
	bin := filepath.Join(t.TempDir(), "baton")
	if out, err := exec.Command("go", "build", "-o", bin, e2etest.ModulePath("cmd", "baton")).CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	s := &soak{t: t, u: e2etest.StartUpgradable(t, bin, 2, "--name", "soak", "-w", "2", "-l", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--", e2etest.HelloBin)}
	st := s.u.MustStatus()
	s.admin = st.Master.Admin
	l := e2etest.StartLoad(t, st.Sockets[0].Address, "/", 4)
	start := time.Now()
	// Rollouts first, all on one master, so that a leak per rollout
	// accumulates where it can be seen; then the upgrades, each sampled on
	// the master it started.
	every := max(1, rollouts/100)
	s.sample("start")
	for i := 1; i <= rollouts; i++ {
		s.rollout(i)
		if i%every == 0 {
			s.sample(fmt.Sprintf("rollout %d", i))
		}
	}
	s.phase = len(s.samples)
	for i := 1; i <= upgrades; i++ {
		s.upgrade(i)
		s.sample(fmt.Sprintf("upgrade %d", i))
	}
	res := l.Stop(t)
	took := time.Since(start)
	s.report()
	t.Logf("soak: %d rollouts, then %d upgrades, of 2 workers in %s; load %s", rollouts, upgrades, took.Round(time.Second), res)
	s.checkFlat()
	s.stopClean()
}

func envCount(t *testing.T, key string, def int) int {
	t.Helper()
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a count", key, v)
	}
	return n
}

// soakSample is the serving master at one point of the soak.
type soakSample struct {
	step                          string
	pid, fds, goroutines, threads int
	rssKB                         int
}

type soak struct {
	t       *testing.T
	u       *e2etest.UpgradableMaster
	admin   string
	samples []soakSample
	phase   int // samples before it are of the rollouts, from it of the upgrades
}

func (s *soak) rollout(i int) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := s.u.Ctl.Reload(ctx, "", nil)
	if err != nil || r.State != supervisor.RolloutDone {
		s.t.Fatalf("rollout %d: %v %+v\n%s", i, err, r, s.u.Output())
	}
}

func (s *soak) upgrade(i int) {
	old := s.u.MustStatus().PID
	if out, code := s.u.Upgrade(); code != 0 {
		s.t.Fatalf("upgrade %d: exit %d\n%s", i, code, out)
	}
	e2etest.WaitFor(s.t, "the old master to exit", 30*time.Second, func() bool { return !e2etest.Alive(old) })
	s.u.WaitWorkers(2)
}

// sample measures the serving master at rest and checks that it left no
// zombie and nothing extra in the control directory.
func (s *soak) sample(step string) {
	st := s.u.WaitWorkers(2)
	pid := st.PID
	smp := soakSample{step: step, pid: pid, fds: settledFDs(pid, 300*time.Millisecond, 10*time.Second),
		goroutines: s.goroutines(), threads: procStatusField(pid, "Threads"), rssKB: procStatusField(pid, "VmRSS")}
	s.samples = append(s.samples, smp)
	e2etest.WaitFor(s.t, "no zombie child of the master", 5*time.Second, func() bool { return len(zombieChildren(pid)) == 0 })
	e2etest.WaitFor(s.t, "nothing extra in the control directory", 5*time.Second, func() bool { return s.controlDirClean(pid, 2) == "" })
}

// goroutines reads go_goroutines from the admin endpoint, on a fresh
// connection each time so that no idle one stays open in the master.
func (s *soak) goroutines() int {
	c := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + s.admin + "/metrics")
	if err != nil {
		s.t.Fatalf("/metrics: %v", err)
	}
	defer resp.Body.Close()
	m, err := admin.Samples(resp.Body)
	if err != nil {
		s.t.Fatalf("/metrics: %v", err)
	}
	return int(m["go_goroutines"])
}

// controlDirClean says what the control directory holds beyond the
// control socket, its lock, the log and the serving master's notify
// directory with one socket per worker ("" when nothing).
func (s *soak) controlDirClean(pid, workers int) string {
	var extra []string
	top, _ := os.ReadDir(s.u.Dir)
	for _, e := range top {
		if !slices.Contains([]string{"c.sock", "c.sock.lock", "baton.log", "baton"}, e.Name()) {
			extra = append(extra, e.Name())
		}
	}
	notify, _ := os.ReadDir(filepath.Join(s.u.Dir, "baton"))
	for _, e := range notify {
		if e.Name() != "n"+strconv.Itoa(pid) {
			extra = append(extra, "baton/"+e.Name())
		}
	}
	if socks, _ := os.ReadDir(filepath.Join(s.u.Dir, "baton", "n"+strconv.Itoa(pid))); len(socks) != workers {
		extra = append(extra, fmt.Sprintf("%d notify sockets for %d workers", len(socks), workers))
	}
	return strings.Join(extra, ", ")
}
