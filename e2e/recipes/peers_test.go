package recipes

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
)

// gunicorn (Debian's package) takes baton's sockets through LISTEN_FDS and
// LISTEN_PID == getpid(), and sends READY=1 and STATUS= itself: a real
// Python server, unmodified, under baton.
func TestGunicornUnderBatonRollsOutWithoutFailures(t *testing.T) {
	gunicorn, err := exec.LookPath("gunicorn")
	if err != nil {
		t.Skip("gunicorn is not installed: apt-get install -y gunicorn (.ci/run does)")
	}
	dir, _ := filepath.Abs("testdata")
	m := e2etest.StartMaster(t, 2, "--name", "gunicorn", "-w", "2", "-l", "127.0.0.1:0", "--dir", dir,
		"--", gunicorn, "--workers", "2", "wsgiapp:app")
	st := m.Status()
	if !strings.Contains(st.Workers[0].Status, "Gunicorn") {
		t.Fatalf("gunicorn's STATUS= text not shown: %q", st.Workers[0].Status)
	}
	l := e2etest.StartLoad(t, m.Addr(), "/", 8)
	e2etest.WaitFor(t, "gunicorn answering", 10*time.Second, func() bool { return l.Answers.DistinctPIDs() > 0 })
	for i := 0; i < 3; i++ {
		m.Reload("")
	}
	l.Stop(t)
	if g := e2etest.Generations(m.Status()); g[4] != 2 {
		t.Fatalf("generations %v", g)
	}
}
