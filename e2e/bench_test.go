package e2e

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
	"github.com/batonhq/baton/internal/loadtest"
	"github.com/batonhq/baton/internal/supervisor"
)

// BenchmarkRolloutOfFourWorkers measures a whole rollout of 4 example
// servers (spawn, the app's own start-up, ready, drain of each) and reports
// it per worker; bench/rollout.sh separates baton's share from the app's.
//
//	go test -run '^$' -bench Rollout ./e2e/
func BenchmarkRolloutOfFourWorkers(b *testing.B) {
	m := e2etest.StartMaster(b, 4, "--name", "bench", "-w", "4", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		start := time.Now()
		st, err := m.Ctl.Reload(ctx, "", nil)
		cancel()
		if err != nil || st.State != supervisor.RolloutDone {
			b.Fatalf("rollout: %v %+v", err, st)
		}
		total += time.Since(start)
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N)/4, "ms/worker")
}

// BenchmarkRolloutsUnderLoad reports failed requests per rollout under
// keep-alive load (the target is 0).
func BenchmarkRolloutsUnderLoad(b *testing.B) {
	m := e2etest.StartMaster(b, 4, "--name", "bload", "-w", "4", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	gaps := &gapMeter{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan loadtest.Result, 1)
	go func() {
		res, _ := loadtest.Run(ctx, loadtest.Options{Addr: m.Addr(), Conns: 32, OnResponse: func(int, []byte) { gaps.tick() }})
		done <- res
	}()
	e2etest.WaitFor(b, "the load to start", 10*time.Second, func() bool { return gaps.started() })
	gaps.reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Reload("")
	}
	b.StopTimer()
	cancel()
	res := <-done
	b.ReportMetric(float64(gaps.longest().Microseconds())/1000, "max-gap-ms")
	b.ReportMetric(float64(res.Failed)/float64(b.N), "failed/rollout")
	b.ReportMetric(float64(res.OK)/float64(b.N), "served/rollout")
	b.ReportMetric(float64(res.P99.Microseconds())/1000, "p99-ms")
}

// BenchmarkRespawnAfterKill measures how long a slot serves nothing after
// its only worker is SIGKILLed: from the kill until the new worker is
// ready (the first crash of a slot respawns at once, with no backoff).
// Connections meanwhile wait in the shared accept queue.
func BenchmarkRespawnAfterKill(b *testing.B) {
	m := e2etest.StartMaster(b, 1, "--name", "brespawn", "-w", "1", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		old := m.Status().Workers[0].PID
		start := time.Now()
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			b.Fatal(err)
		}
		e2etest.WaitFor(b, "a new ready worker", 30*time.Second, func() bool {
			st := m.Status()
			return len(st.Workers) == 1 && st.Workers[0].PID != old && st.Workers[0].State == supervisor.Ready
		})
		total += time.Since(start)
		// Let the worker count as stable again, so every kill is a
		// "first crash" (no backoff) without waiting StableUptime.
		b.StopTimer()
		m.Reload("")
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/respawn")
}

// BenchmarkUpgradesUnderLoad replaces the master (and so every worker)
// under keep-alive load and reports failed requests per upgrade (target
// 0), the longest time in which no connection got a response (target
// under 50 ms), and how long an upgrade took end to end.
//
//	go test -run '^$' -bench UpgradesUnderLoad -benchtime 20x ./e2e/
func BenchmarkUpgradesUnderLoad(b *testing.B) {
	u := e2etest.StartUpgradable(b, e2etest.BatonBin, 4, "--name", "bup", "-w", "4", "-l", "127.0.0.1:0", "--", e2etest.HelloBin)
	gaps := &gapMeter{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan loadtest.Result, 1)
	go func() {
		res, _ := loadtest.Run(ctx, loadtest.Options{Addr: u.MustStatus().Sockets[0].Address, Conns: 32,
			OnResponse: func(int, []byte) { gaps.tick() }})
		done <- res
	}()
	e2etest.WaitFor(b, "the load to start", 10*time.Second, func() bool { return gaps.started() })
	// The same measure with no upgrade, for as long as the upgrades will
	// take (guessed from one), tells the machine's noise from baton's gap.
	gaps.reset()
	steady := time.NewTimer(time.Duration(b.N) * 250 * time.Millisecond)
	<-steady.C
	steadyGap := gaps.longest()
	gaps.reset()
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if out, code := u.Upgrade(); code != 0 {
			b.Fatalf("upgrade %d: exit %d\n%s", i, code, out)
		}
		total += time.Since(start)
	}
	b.StopTimer()
	cancel()
	res := <-done
	b.ReportMetric(float64(res.Failed)/float64(b.N), "failed/upgrade")
	b.ReportMetric(float64(gaps.longest().Microseconds())/1000, "max-gap-ms")
	b.ReportMetric(float64(steadyGap.Microseconds())/1000, "steady-max-gap-ms")
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/upgrade")
	b.ReportMetric(float64(res.P99.Microseconds())/1000, "p99-ms")
}

// gapMeter keeps the longest time between two consecutive responses.
type gapMeter struct {
	mu   sync.Mutex
	last time.Time
	max  time.Duration
}

func (g *gapMeter) tick() {
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.last.IsZero() && now.Sub(g.last) > g.max {
		g.max = now.Sub(g.last)
	}
	g.last = now
}

func (g *gapMeter) started() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return !g.last.IsZero()
}

func (g *gapMeter) reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.max = 0
}

func (g *gapMeter) longest() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.max
}
