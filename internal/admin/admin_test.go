package admin

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/supervisor"
)

func status(workers ...supervisor.State) StatusFunc {
	return func(context.Context) (supervisor.Status, error) {
		st := supervisor.Status{Desired: len(workers), Generation: 3}
		for i, s := range workers {
			st.Workers = append(st.Workers, supervisor.WorkerStatus{Slot: i, State: s})
		}
		return st, nil
	}
}

func scrape(t *testing.T, h http.Handler) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body)
	}
	out, err := Samples(rec.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return out
}

func TestEventsMoveTheCounters(t *testing.T) {
	m := NewMetrics(status(supervisor.Ready, supervisor.Ready, supervisor.Starting))
	for _, e := range []supervisor.Event{
		{Kind: supervisor.KindWorker, To: supervisor.Ready, Took: 20 * time.Millisecond},
		{Kind: supervisor.KindWorker, From: supervisor.Ready, To: supervisor.Exited, Cause: supervisor.CauseCrashed},
		{Kind: supervisor.KindWorker, To: supervisor.Starting, Cause: supervisor.CauseRollout},
		{Kind: supervisor.KindWorker, To: supervisor.Starting, Cause: supervisor.CauseScale},
		{Kind: supervisor.KindWorker, To: supervisor.Draining, Cause: supervisor.CauseReadyTimeout},
		{Kind: supervisor.KindWorker, From: supervisor.Draining, To: supervisor.Exited, Cause: supervisor.CauseKilled, Took: time.Second},
		{Kind: supervisor.KindRollout, Step: supervisor.StepDone, Rollout: &supervisor.RolloutStatus{State: supervisor.RolloutDone, Seconds: 1}},
		{Kind: supervisor.KindRollout, Step: supervisor.StepDone, Rollout: &supervisor.RolloutStatus{State: supervisor.RolloutFailed}},
	} {
		m.Observe(e)
	}
	m.RolloutRefused()
	m.Upgrade(ResultDone)
	got := scrape(t, m.Handler())
	want := map[string]float64{
		"baton_worker_restarts_total{cause=crash}": 1, "baton_worker_restarts_total{cause=rollout}": 1,
		"baton_worker_restarts_total{cause=scale}": 1, "baton_worker_restarts_total{cause=ready-timeout}": 1,
		"baton_workers_killed_total": 1, "baton_rollouts_total{result=done}": 1, "baton_rollouts_total{result=failed}": 1,
		"baton_rollouts_total{result=refused}": 1, "baton_master_upgrades_total{result=done}": 1,
		"baton_worker_ready_seconds_count": 1, "baton_worker_drain_seconds_count": 1, "baton_rollout_duration_seconds_count": 2,
		"baton_workers{state=ready}": 2, "baton_workers{state=starting}": 1, "baton_workers{state=draining}": 0,
		"baton_workers_desired": 3, "baton_generation": 3,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestCountersCarryOver(t *testing.T) {
	old := NewMetrics(status())
	old.Observe(supervisor.Event{Kind: supervisor.KindWorker, To: supervisor.Exited, Cause: supervisor.CauseCrashed})
	old.Observe(supervisor.Event{Kind: supervisor.KindWorker, To: supervisor.Exited, Cause: supervisor.CauseKilled})
	old.Upgrade(ResultFailed)
	next := NewMetrics(status())
	next.Seed(old.Counters())
	next.Seed(map[string]float64{"nosuch_total": 3, "baton_rollouts_total{result=nosuch}": 1})
	got := scrape(t, next.Handler())
	if got["baton_worker_restarts_total{cause=crash}"] != 1 || got["baton_workers_killed_total"] != 1 ||
		got["baton_master_upgrades_total{result=failed}"] != 1 {
		t.Fatalf("carried over: %v", got)
	}
}

func TestReadyzAndHealthz(t *testing.T) {
	ready, why := true, ""
	h := Handler(NewMetrics(status()), func() (bool, string) { return ready, why })
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		b, _ := io.ReadAll(rec.Body)
		return rec.Code, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("/healthz %d", code)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("/readyz %d", code)
	}
	ready, why = false, "stopping"
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "stopping") {
		t.Fatalf("/readyz %d %q", code, body)
	}
}

// Without --admin the master holds a nil *Metrics; counting on it is a no-op.
func TestNilMetricsCountNothing(t *testing.T) {
	var m *Metrics
	m.RolloutRefused()
	m.Upgrade(ResultDone)
	if m.Counters() != nil {
		t.Fatal("a nil *Metrics has no counters")
	}
}
