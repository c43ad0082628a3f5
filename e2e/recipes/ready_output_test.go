package recipes

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
	"github.com/batonhq/baton/internal/supervisor"
)

// startRecipe writes the recipe's code into a fresh directory, starts a
// master of n workers running command there with the recipe's flags, and
// waits until every worker is ready.
func startRecipe(t *testing.T, r recipe, name string, n int, files map[string]string, command ...string) *e2etest.Master {
	t.Helper()
	dir := t.TempDir()
	for path, body := range files {
		p := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := append(r.runFlags(name, n), "--dir", dir, "--")
	return e2etest.StartMaster(t, n, append(args, command...)...)
}

// get fetches path from m on a connection of its own.
func get(t *testing.T, m *e2etest.Master, path string) string {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + m.Addr() + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %q %v", path, resp.StatusCode, b, err)
	}
	return string(b)
}

// rolloutsUnderKeepAlive runs n rollouts under a never-retrying keep-alive
// load and fails the test on any failed request or killed worker.
func rolloutsUnderKeepAlive(t *testing.T, m *e2etest.Master, workers, n int) {
	t.Helper()
	l := e2etest.StartLoad(t, m.Addr(), "/", 16)
	for i := 0; i < n; i++ {
		if st := m.Reload(""); st.Killed != 0 {
			t.Errorf("rollout %d: %d old workers killed after --stop-timeout", st.ID, st.Killed)
		}
	}
	res := l.Stop(t)
	t.Logf("%d rollouts of %d workers: %d requests, %d failed", n, workers, res.OK+res.Failed, res.Failed)
	if g := e2etest.Generations(m.Status()); g[n+1] != workers {
		t.Fatalf("generations %v, want %d of generation %d", g, workers, n+1)
	}
}

// The README's Node.js recipe as written: the inherited socket with
// server.listen({fd: 3}), ready when it prints "listening", drained
// without the keep-alive race. 10 rollouts under keep-alive load, none
// failed.
func TestNodeRecipeReadyByOutputRollsOutUnderLoad(t *testing.T) {
	node := peer(t, "node", "apt-get install -y nodejs")
	r := readmeRecipe(t, "### Node.js", "node")
	if !slices.Equal(r.command, []string{"node", "server.js"}) || r.flag("--ready") != "output:listening" {
		t.Fatalf("README's Node.js recipe changed: --ready %q -- %q", r.flag("--ready"), r.command)
	}
	m := startRecipe(t, r, "node", 4, map[string]string{"server.js": r.code["js"]}, node, "server.js")
	if body := get(t, m, "/"); body != "hello\n" {
		t.Fatalf("node answered %q", body)
	}
	rolloutsUnderKeepAlive(t, m, 4, 10)
	if out := m.Out.String(); !strings.Contains(out, "] listening") {
		t.Fatalf("the ready line is not in the log:\n%s", out)
	}
}

// The README's --ready output: example, on the bundled example server:
// ready by its log line, not by READY=1 (it gets no NOTIFY_SOCKET).
func TestReadmeOutputReadyExampleWithHello(t *testing.T) {
	const ready = "output:msg=serving"
	readme, err := os.ReadFile(e2etest.ModulePath("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "--ready "+ready+" -- ./hello") {
		t.Fatalf("README's example no longer uses --ready %s", ready)
	}
	m := e2etest.StartMaster(t, 2, "--name", "hellout", "-w", "2", "-l", "127.0.0.1:0", "--ready", ready, "--", e2etest.HelloBin)
	m.Reload("")
	if g := e2etest.Generations(m.Status()); g[2] != 2 {
		t.Fatalf("generations %v", g)
	}
}

// A Node server that serves but never prints the line --ready output:
// waits for misses --ready-timeout: the rollout aborts, `baton reload`
// exits 1 naming the reason and the worker's last output, and the old
// workers keep serving.
func TestOutputThatNeverMatchesAbortsRolloutAndKeepsOldWorkers(t *testing.T) {
	node := peer(t, "node", "apt-get install -y nodejs")
	dir := t.TempDir()
	script := e2etest.WriteScript(t, dir, "server.sh", `#!/bin/sh
if [ -e "`+dir+`/MUTE" ]; then greeting="up and serving"; else greeting=listening; fi
exec `+node+` -e "require('http').createServer((q, s) => s.end('gen ' + process.env.BATON_GENERATION)).listen({fd: 3}, () => console.log('$greeting'))"
`)
	m := e2etest.StartMaster(t, 2, "--name", "mute", "-w", "2", "-l", "127.0.0.1:0",
		// 6 s: long enough for Node to start and print on a loaded machine.
		"--ready", "output:^listening$", "--ready-timeout", "6s", "--", script)
	before := e2etest.PIDs(m.Status())
	e2etest.Touch(t, filepath.Join(dir, "MUTE"))
	start := time.Now()
	stdout, stderr, code := m.Baton("reload", "--name", "mute")
	if code != 1 || !strings.Contains(stderr, "not ready within --ready-timeout 6s") || !strings.Contains(stderr, "up and serving") {
		t.Fatalf("reload exit %d, want 1 with the reason and the last output:\n%s%s", code, stdout, stderr)
	}
	if d := time.Since(start); d < 6*time.Second {
		t.Fatalf("aborted after %s, before the ready timeout", d)
	}
	st := m.WaitReady(2, 10*time.Second)
	if err := e2etest.SamePIDs(before, e2etest.PIDs(st)); err != nil {
		t.Fatal(err)
	}
	if st.Rollout == nil || st.Rollout.State != supervisor.RolloutFailed {
		t.Fatalf("status does not show the failed rollout: %+v", st.Rollout)
	}
	if body := get(t, m, "/"); body != "gen 1" {
		t.Fatalf("answered %q, want the old generation", body)
	}
	os.Remove(filepath.Join(dir, "MUTE"))
	if _, stderr, code := m.Baton("reload", "--name", "mute"); code != 0 {
		t.Fatalf("the next reload: exit %d: %s", code, stderr)
	}
}

// The README's uvicorn recipe as written: ready on "Uvicorn running on",
// drained by the app on --stop-signal USR1 before uvicorn's own stop.
func TestUvicornRecipeReadyByOutputRollsOutUnderLoad(t *testing.T) {
	python := uvicornPython(t)
	r := readmeRecipe(t, "### Python: gunicorn, uvicorn", "uvicorn")
	if !slices.Equal(r.command, []string{"python3", "-m", "uvicorn", "app:app", "--fd", "3"}) ||
		r.flag("--ready") != "output:Uvicorn running on" || r.flag("--stop-signal") != "USR1" {
		t.Fatalf("README's uvicorn recipe changed: %q -- %q", r.flags, r.command)
	}
	m := startRecipe(t, r, "uvicorn", 2, map[string]string{"app.py": r.code["python"]}, python, "-m", "uvicorn", "app:app", "--fd", "3")
	if body := get(t, m, "/"); body != "hello\n" {
		t.Fatalf("uvicorn answered %q", body)
	}
	rolloutsUnderKeepAlive(t, m, 2, 3)
}

// uvicornPython finds a python3 that imports uvicorn: the one on PATH, or
// Debian's (python3-uvicorn), which a pyenv or venv python3 may hide.
func uvicornPython(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if path, err := execLook(p); err == nil && importable(path, "uvicorn") {
			return path
		}
	}
	t.Skip("uvicorn is not installed: apt-get install -y python3-uvicorn (.ci/run does)")
	return ""
}

// The README's Puma recipe: bind_to_activated_sockets, ready on the line
// Puma prints once its server threads run.
func TestPumaRecipeReadyByOutputRollsOutUnderLoad(t *testing.T) {
	puma := peer(t, "puma", "apt-get install -y puma")
	r := readmeRecipe(t, "### Ruby: Puma", "puma")
	if !slices.Equal(r.command, []string{"bundle", "exec", "puma", "-C", "config/puma.rb"}) || r.flag("--ready") != "output:Use Ctrl-C to stop" {
		t.Fatalf("README's Puma recipe changed: %q -- %q", r.flags, r.command)
	}
	ru, err := os.ReadFile("testdata/config.ru")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"config/puma.rb": r.code["ruby"], "config.ru": string(ru)}
	m := startRecipe(t, r, "puma", 2, files, puma, "-C", "config/puma.rb") // bundle exec: no Gemfile here
	if body := get(t, m, "/"); !strings.Contains(body, `"generation": "1"`) {
		t.Fatalf("puma answered %q", body)
	}
	rolloutsUnderKeepAlive(t, m, 2, 3)
}
