package proxy

import (
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
	"github.com/batonhq/baton/internal/supervisor"
)

// The recycle counts in status survive a master upgrade, like the
// rollouts and the metrics: the new master carries on the old one's.
func TestRecycleCountsSurviveAnUpgrade(t *testing.T) {
	u := e2etest.StartUpgradable(t, e2etest.BatonBin, 2, "--name", "recup", "-w", "2", "--mode", "proxy", "--proxy", "http",
		"-l", "127.0.0.1:0", "--max-requests", "5", "--", e2etest.HelloBin, "-addr", "127.0.0.1:{port}")
	first := u.MustStatus()
	addr := first.Sockets[0].Address
	var before int
	e2etest.WaitFor(t, "two recycles by request count", 60*time.Second, func() bool {
		httpGet(t, "http://"+addr+"/")
		before = u.MustStatus().Recycled[supervisor.CauseMaxRequests]
		return before >= 2
	})
	u.WaitWorkers(2)
	if out, code := u.Upgrade(); code != 0 || !strings.Contains(out, "upgrade done") {
		t.Fatalf("upgrade: exit %d\n%s", code, out)
	}
	st := u.MustStatus()
	if st.PID == first.PID || st.Recycled[supervisor.CauseMaxRequests] < before {
		t.Fatalf("after the upgrade (pid %d → %d): recycled %v, want at least %d by request count", first.PID, st.PID, st.Recycled, before)
	}
}
