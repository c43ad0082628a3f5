package admin

import (
	"testing"

	"github.com/batonhq/baton/internal/supervisor"
)

func TestRecyclesCountAsRestartsByCause(t *testing.T) {
	m := NewMetrics(status())
	for _, c := range []supervisor.Cause{supervisor.CauseWatchdog, supervisor.CauseWatchdog, supervisor.CauseMemory,
		supervisor.CauseMaxRequests, supervisor.CauseMaxLifetime} {
		m.Observe(supervisor.Event{Kind: supervisor.KindWorker, To: supervisor.Starting, Cause: c})
	}
	// The old worker's drain is not a second restart.
	m.Observe(supervisor.Event{Kind: supervisor.KindWorker, From: supervisor.Ready, To: supervisor.Draining, Cause: supervisor.CauseMemory})
	got := scrape(t, m.Handler())
	for k, v := range map[string]float64{
		"baton_worker_restarts_total{cause=watchdog}": 2, "baton_worker_restarts_total{cause=memory}": 1,
		"baton_worker_restarts_total{cause=max-requests}": 1, "baton_worker_restarts_total{cause=max-lifetime}": 1,
		"baton_worker_restarts_total{cause=crash}": 0,
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, ok := scrape(t, NewMetrics(status()).Handler())["baton_worker_restarts_total{cause=watchdog}"]; !ok {
		t.Error("the watchdog cause is not exported at 0 before it happens")
	}
}
