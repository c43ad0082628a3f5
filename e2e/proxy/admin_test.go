package proxy

import (
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/admin"
	"github.com/batonhq/baton/internal/e2etest"
	"github.com/batonhq/baton/internal/supervisor"
)

// scrapeMetrics reads /metrics with the Prometheus text parser: every
// sample by name{label=value}.
func scrapeMetrics(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	out, err := admin.Samples(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return out
}

func httpCode(addr, path string) int {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// The counters move as workers crash, roll and scale, and survive a
// master upgrade; the endpoint keeps answering across it.
func TestAdminMetricsMoveAndSurviveAnUpgrade(t *testing.T) {
	u := e2etest.LaunchUpgradable(t, nil, e2etest.BatonBin, nil, "--name", "adm", "-w", "2", "-l", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--", e2etest.HelloBin)
	st := u.WaitWorkers(2)
	adm := st.Master.Admin
	if adm == "" || httpCode(adm, "/healthz") != 200 || httpCode(adm, "/readyz") != 200 {
		t.Fatalf("admin %q: healthz %d readyz %d", adm, httpCode(adm, "/healthz"), httpCode(adm, "/readyz"))
	}
	if got := scrapeMetrics(t, adm); got["baton_workers{state=ready}"] != 2 || got["baton_workers_desired"] != 2 {
		t.Fatalf("workers: %v", got)
	}
	if err := syscall.Kill(st.Workers[0].PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e2etest.WaitFor(t, "the crash counted", 20*time.Second, func() bool {
		return scrapeMetrics(t, adm)["baton_worker_restarts_total{cause=crash}"] == 1
	})
	u.WaitWorkers(2)
	if _, _, code := e2etest.RunBaton(t, u.Env, "reload", "--control", u.Ctl.Path); code != 0 {
		t.Fatalf("reload: exit %d", code)
	}
	if _, _, code := e2etest.RunBaton(t, u.Env, "scale", "3", "--control", u.Ctl.Path); code != 0 {
		t.Fatalf("scale: exit %d", code)
	}
	u.WaitWorkers(3)
	want := map[string]float64{"baton_worker_restarts_total{cause=crash}": 1, "baton_worker_restarts_total{cause=rollout}": 2,
		"baton_worker_restarts_total{cause=scale}": 1, "baton_rollouts_total{result=done}": 1}
	e2etest.WaitFor(t, "the rollout and the scale counted", 20*time.Second, func() bool {
		got := scrapeMetrics(t, adm)
		for k, v := range want {
			if got[k] != v {
				return false
			}
		}
		return got["baton_worker_ready_seconds_count"] >= 6 && got["baton_rollout_duration_seconds_count"] == 1
	})
	polls, stopPolling := pollAdmin(adm)
	if out, code := u.Upgrade(); code != 0 {
		t.Fatalf("upgrade: exit %d\n%s", code, out)
	}
	e2etest.WaitFor(t, "the old master to exit", 30*time.Second, func() bool { return !e2etest.Alive(st.PID) })
	if bad := stopPolling(); bad > 0 {
		t.Fatalf("/readyz failed %d of %d times across the upgrade", bad, *polls)
	}
	got := scrapeMetrics(t, adm)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("after the upgrade %s = %v, want %v (carried over)", k, got[k], v)
		}
	}
	// The new master reads the config again: -w 2 (a scale is not kept).
	if got["baton_master_upgrades_total{result=done}"] != 1 || got["baton_workers{state=ready}"] != 2 {
		t.Errorf("after the upgrade: %v", got)
	}
}

// pollAdmin asks /readyz over and over until stop, which returns how many
// answers were not 200.
func pollAdmin(addr string) (n *int, stop func() int) {
	done, bad := make(chan struct{}), make(chan int)
	n = new(int)
	go func() {
		failed := 0
		for {
			select {
			case <-done:
				bad <- failed
				return
			default:
			}
			if httpCode(addr, "/readyz") != 200 {
				failed++
			}
			*n++
		}
	}()
	return n, func() int { close(done); return <-bad }
}

// With --shutdown-delay, SIGTERM turns /readyz to 503 at once while every
// worker keeps serving and nothing drains; a second SIGTERM skips the rest
// of the delay (60 s here: the master is gone long before).
func TestShutdownDelayFailsReadyzFirstAndASecondStopSkipsIt(t *testing.T) {
	m := e2etest.StartMaster(t, 2, "--name", "delay", "-w", "2", "-l", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--shutdown-delay", "60s", "--", e2etest.HelloBin)
	st := m.Status()
	adm := st.Master.Admin
	if httpCode(adm, "/readyz") != 200 {
		t.Fatalf("/readyz before the stop: %d", httpCode(adm, "/readyz"))
	}
	l := e2etest.StartLoad(t, m.Addr(), "/", 4)
	if err := m.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	e2etest.WaitFor(t, "/readyz to answer 503", 10*time.Second, func() bool { return httpCode(adm, "/readyz") == 503 })
	after := m.Status()
	if after.Phase != supervisor.PhaseRunning || e2etest.CountState(after, supervisor.Ready) != 2 || httpCode(adm, "/healthz") != 200 {
		t.Fatalf("during the delay: phase %s, workers %+v", after.Phase, after.Workers)
	}
	res := l.Stop(t) // every request during the delay was answered
	if res.OK == 0 {
		t.Fatal("no request during the delay")
	}
	start := time.Now()
	if err := m.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := m.Wait(45 * time.Second); code != 0 {
		t.Fatalf("exit %d after the second SIGTERM", code)
	}
	t.Logf("stopped %s after the second SIGTERM (delay 60s)", time.Since(start).Round(time.Millisecond))
}

// In proxy mode /metrics also counts the proxy's responses by class, and
// those counters survive a master upgrade.
func TestAdminMetricsInProxyMode(t *testing.T) {
	u := e2etest.LaunchUpgradable(t, nil, e2etest.BatonBin, nil, "--name", "admproxy", "-w", "2", "-l", "127.0.0.1:0", "--admin", "127.0.0.1:0",
		"--mode", "proxy", "--proxy", "http", "--", e2etest.HelloBin, "-addr", "127.0.0.1:{port}")
	st := u.WaitWorkers(2)
	adm := st.Master.Admin
	l := e2etest.StartLoad(t, st.Sockets[0].Address, "/", 4)
	e2etest.WaitFor(t, "2xx responses counted", 20*time.Second, func() bool {
		return scrapeMetrics(t, adm)["baton_proxy_responses_total{code=2xx}"] >= 100
	})
	l.Stop(t)
	before := scrapeMetrics(t, adm)
	if before["baton_proxy_failed_total"] != 0 || before["baton_proxy_responses_total{code=5xx}"] != 0 {
		t.Fatalf("proxy metrics: %v", before)
	}
	if out, code := u.Upgrade(); code != 0 {
		t.Fatalf("upgrade: exit %d\n%s", code, out)
	}
	if after := scrapeMetrics(t, adm); after["baton_proxy_responses_total{code=2xx}"] < before["baton_proxy_responses_total{code=2xx}"] {
		t.Fatalf("2xx responses went from %v to %v across the upgrade", before["baton_proxy_responses_total{code=2xx}"], after["baton_proxy_responses_total{code=2xx}"])
	}
}
