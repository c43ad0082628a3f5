package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/batonhq/baton/internal/supervisor"
)

// Event is one thing the demo did to the running master, and whether it
// did what it should.
type Event struct {
	Name   string
	At     time.Duration // since the load began
	Took   time.Duration
	OK     bool
	Detail string
}

// step is one scripted event: when (as a fraction of the run) and what.
type step struct {
	at   float64
	name string
	do   func(context.Context, *master, int) (bool, string)
}

// script is the events in order; px is the --proxy http master.
func script(px *master) []step {
	return []step{
		{0.10, "rolling restart", rollout},
		{0.20, "kill -9 of a worker", killWorker},
		{0.30, "rolling restart", rollout},
		{0.40, "broken deploy (new workers exit at once)", brokenDeploy},
		{0.52, "master upgrade", upgrade},
		{0.66, "rolling restart", rollout},
		{0.78, "--proxy http rollout, no signal handler", func(ctx context.Context, _ *master, _ int) (bool, string) {
			ok, detail := rollout(ctx, px, proxyWorkers)
			return ok, detail + " (a server with no signal handler: baton drained it first)"
		}},
	}
}

// proxyWorkers is the size of the --proxy http master's pool.
const proxyWorkers = 2

func rollout(ctx context.Context, m *master, _ int) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	st, err := m.ctl.Reload(ctx, "", nil)
	if err != nil {
		return false, err.Error()
	}
	return st.State == supervisor.RolloutDone, st.Summary()
}

func killWorker(ctx context.Context, m *master, n int) (bool, string) {
	st, err := m.status(ctx)
	if err != nil || len(st.Workers) == 0 {
		return false, fmt.Sprintf("no worker to kill: %v", err)
	}
	victim := st.Workers[0].PID
	start := time.Now()
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		return false, err.Error()
	}
	_, err = m.waitReady(ctx, n, 30*time.Second, func(s supervisor.Status) bool { return !slices.Contains(pids(s), victim) })
	m.kills = append(m.kills, span{start, time.Now()})
	if err != nil {
		return false, err.Error()
	}
	return true, fmt.Sprintf("pid %d killed; its slot served again after %s", victim, time.Since(start).Round(time.Millisecond))
}

func brokenDeploy(ctx context.Context, m *master, n int) (bool, string) {
	before, err := m.status(ctx)
	if err != nil {
		return false, err.Error()
	}
	broken := filepath.Join(m.dir, brokenFile)
	if err := os.WriteFile(broken, []byte("a bad build\n"), 0o644); err != nil {
		return false, err.Error()
	}
	defer os.Remove(broken)
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	st, err := m.ctl.Reload(rctx, "", nil)
	if err != nil {
		return false, err.Error()
	}
	after, err := m.waitReady(ctx, n, 30*time.Second, nil)
	if err != nil {
		return false, err.Error()
	}
	kept := slices.Equal(pids(before), pids(after))
	return st.State == supervisor.RolloutFailed && kept, fmt.Sprintf("refused as it should: %s; the %d old workers kept serving", st.Summary(), n)
}

func upgrade(ctx context.Context, m *master, n int) (bool, string) {
	before, err := m.status(ctx)
	if err != nil {
		return false, err.Error()
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	rep, err := m.ctl.Upgrade(rctx, nil)
	if err != nil || !rep.OK {
		return false, fmt.Sprintf("upgrade failed: %v %s", err, rep.Error)
	}
	if _, err := m.waitReady(ctx, n, 30*time.Second, func(s supervisor.Status) bool { return s.PID != before.PID }); err != nil {
		return false, err.Error()
	}
	return true, fmt.Sprintf("master pid %d replaced by pid %d, with %d new workers, sockets kept open", before.PID, rep.PID, n)
}

func pids(st supervisor.Status) []int {
	out := make([]int, 0, len(st.Workers))
	for _, w := range st.Workers {
		out = append(out, w.PID)
	}
	slices.Sort(out)
	return out
}
