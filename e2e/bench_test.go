package e2e

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/loadtest"
	"github.com/batonhq/baton/internal/supervisor"
)

// BenchmarkRolloutOfFourWorkers measures a whole rollout of 4 example
// servers (spawn, the app's own start-up, ready, drain of each) and reports
// it per worker; bench/rollout.sh separates baton's share from the app's.
//
//	go test -run '^$' -bench Rollout ./e2e/
func BenchmarkRolloutOfFourWorkers(b *testing.B) {
	m := startMaster(b, 4, "--name", "bench", "-w", "4", "-l", "127.0.0.1:0", "--", helloBin)
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		start := time.Now()
		st, err := m.ctl.Reload(ctx, "", nil)
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
	m := startMaster(b, 4, "--name", "bload", "-w", "4", "-l", "127.0.0.1:0", "--", helloBin)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan loadtest.Result, 1)
	go func() {
		res, _ := loadtest.Run(ctx, loadtest.Options{Addr: m.addr(), Conns: 32})
		done <- res
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.reload("")
	}
	b.StopTimer()
	cancel()
	res := <-done
	b.ReportMetric(float64(res.Failed)/float64(b.N), "failed/rollout")
	b.ReportMetric(float64(res.OK)/float64(b.N), "served/rollout")
	b.ReportMetric(float64(res.P99.Microseconds())/1000, "p99-ms")
}

// BenchmarkRespawnAfterKill measures how long a slot serves nothing after
// its only worker is SIGKILLed: from the kill until the new worker is
// ready (the first crash of a slot respawns at once, with no backoff).
// Connections meanwhile wait in the shared accept queue.
func BenchmarkRespawnAfterKill(b *testing.B) {
	m := startMaster(b, 1, "--name", "brespawn", "-w", "1", "-l", "127.0.0.1:0", "--", helloBin)
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		old := m.status().Workers[0].PID
		start := time.Now()
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			b.Fatal(err)
		}
		waitFor(b, "a new ready worker", 30*time.Second, func() bool {
			st := m.status()
			return len(st.Workers) == 1 && st.Workers[0].PID != old && st.Workers[0].State == supervisor.Ready
		})
		total += time.Since(start)
		// Let the worker count as stable again, so every kill is a
		// "first crash" (no backoff) without waiting StableUptime.
		b.StopTimer()
		m.reload("")
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/respawn")
}
