package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
	"github.com/batonhq/baton/internal/loadtest"
	"github.com/batonhq/baton/internal/supervisor"
)

// release makes dir/releases/NAME with a VERSION file.
func release(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, "releases", name)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p, "VERSION"), []byte(name+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// flip points link at target atomically, as deploy tools do.
func flip(t *testing.T, link, target string) {
	t.Helper()
	tmp := link + ".new"
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, link); err != nil {
		t.Fatal(err)
	}
}

// versions asks n times and counts the VERSION each answer reports.
func versions(t *testing.T, addr string, n int) map[string]int {
	t.Helper()
	var mu sync.Mutex
	out := map[string]int{}
	res, err := loadtest.Run(context.Background(), loadtest.Options{Addr: addr, Conns: 4, Requests: n, OnResponse: func(_ int, b []byte) {
		var r e2etest.HelloReply
		if json.Unmarshal(b, &r) == nil {
			mu.Lock()
			out[r.Version]++
			mu.Unlock()
		}
	}})
	if err != nil || res.Failed != 0 {
		t.Fatalf("requests failed: %v %s", err, res)
	}
	return out
}

func TestSymlinkFlipTakesEffectOnReload(t *testing.T) {
	dir := t.TempDir()
	release(t, dir, "41")
	release(t, dir, "42")
	link := filepath.Join(dir, "current")
	flip(t, link, filepath.Join(dir, "releases", "41"))
	m := e2etest.StartMaster(t, 2, "--name", "flip", "-w", "2", "-l", "127.0.0.1:0", "--dir", link, "--", e2etest.HelloBin)
	if v := versions(t, m.Addr(), 50); v["41"] != 50 {
		t.Fatalf("before: %v", v)
	}
	flip(t, link, filepath.Join(dir, "releases", "42"))
	m.Reload("")
	if v := versions(t, m.Addr(), 50); v["42"] != 50 {
		t.Fatalf("after the flip and a reload: %v", v)
	}
	for _, w := range m.Status().Workers {
		if w.Dir != filepath.Join(dir, "releases", "42") {
			t.Fatalf("status dir %q", w.Dir)
		}
	}
}

func TestWatchOnSymlinkStartsRolloutByItself(t *testing.T) {
	dir := t.TempDir()
	release(t, dir, "1")
	release(t, dir, "2")
	link := filepath.Join(dir, "current")
	flip(t, link, filepath.Join(dir, "releases", "1"))
	m := e2etest.StartMaster(t, 2, "--name", "watch", "-w", "2", "-l", "127.0.0.1:0", "--dir", link, "--watch", link, "--", e2etest.HelloBin)
	l := e2etest.StartLoad(t, m.Addr(), "/", 8)
	flip(t, link, filepath.Join(dir, "releases", "2"))
	e2etest.WaitFor(t, "the watch-triggered rollout", 15*time.Second, func() bool {
		st := m.Status()
		return st.Rollout != nil && st.Rollout.State == supervisor.RolloutDone && st.Rollout.Trigger == supervisor.TriggerWatch && e2etest.Generations(st)[2] == 2
	})
	l.Stop(t)
	if v := versions(t, m.Addr(), 50); v["2"] != 50 {
		t.Fatalf("after the watched flip: %v", v)
	}
}
