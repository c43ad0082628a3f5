package recipes

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
	"github.com/batonhq/baton/internal/loadtest"
	"github.com/batonhq/baton/internal/supervisor"
)

// limitServer builds testdata/limitserver once, beside the baton binary.
func limitServer(t *testing.T) string {
	t.Helper()
	return e2etest.BuildProgram(t, "limitserver", "./testdata/limitserver")
}

// patientLoad is a never-retrying load whose requests may wait a minute:
// the requests a hung worker holds wait for its watchdog (seconds) and
// for its replacement to be ready before the stop signal's SIGCONT wakes
// it to answer them, which takes longer than the default 10 s timeout
// when the machine is loaded (a Python server may take 5 s to start).
func patientLoad(t *testing.T, addr, method string, conns int) *e2etest.Load {
	t.Helper()
	return e2etest.StartLoadWith(t, loadtest.Options{Addr: addr, Method: method, Conns: conns, RequestTimeout: time.Minute})
}

// recycled is how many workers m recycled for cause.
func recycled(m *e2etest.Master, cause supervisor.Cause) int { return m.Status().Recycled[cause] }

// stopWorker SIGSTOPs pid (and SIGCONTs it at the end, if it is left).
func stopWorker(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
}

// replacedByWatchdog waits until the stopped worker pid is gone and n
// workers are ready again, and checks how it went: the others, which
// pinged (or passed their probes) all along, were left alone.
func replacedByWatchdog(t *testing.T, m *e2etest.Master, pid, n int, others []int) {
	t.Helper()
	e2etest.WaitFor(t, "the stopped worker replaced", 60*time.Second, func() bool {
		st := m.Status()
		return st.Recycled[supervisor.CauseWatchdog] == 1 && !slices.Contains(e2etest.PIDs(st), pid) && st.ReadyCount() == n
	})
	e2etest.WaitFor(t, "the stopped worker gone", 30*time.Second, func() bool { return !e2etest.Alive(pid) })
	st := m.Status()
	if n := st.Recycled[supervisor.CauseWatchdog]; n != 1 {
		t.Errorf("%d workers replaced by their watchdog, want 1", n)
	}
	for _, o := range others {
		if !slices.Contains(e2etest.PIDs(st), o) {
			t.Errorf("worker %d, which answered its watchdog, was replaced: %v", o, e2etest.PIDs(st))
		}
	}
	out := m.Out.String()
	for _, want := range []string{"cause=watchdog", "replacing it"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
}

// Inherit mode: hello pings WATCHDOG=1 (the worker library does, at half
// the interval); a SIGSTOPped worker stops pinging and is replaced, surge
// first, with cause watchdog. The requests it holds on its keep-alive
// connections wait, and are answered once the stop signal's SIGCONT wakes
// it to drain: none fails.
func TestWatchdogInheritReplacesAStoppedWorker(t *testing.T) {
	m := e2etest.StartMaster(t, 2, "--name", "wdinherit", "-w", "2", "-l", "127.0.0.1:0", "--watchdog", "3s", "--", e2etest.HelloBin)
	l := patientLoad(t, m.Addr(), "POST", 8)
	st := m.Status()
	victim, other := st.Workers[0].PID, st.Workers[1].PID
	stopWorker(t, victim)
	replacedByWatchdog(t, m, victim, 2, []int{other})
	if st := m.Status(); st.Workers[0].Restarts+st.Workers[1].Restarts != 1 {
		t.Errorf("a watchdog replacement counts as a restart of its slot: %+v", st.Workers)
	}
	l.Stop(t)
}

// Proxy http mode without notify readiness: the liveness probe (a GET of
// /) stands in for WATCHDOG=1. A SIGSTOPped worker fails it, leaves the
// rotation at once and is replaced; nothing fails.
func TestWatchdogProxyHTTPProbeReplacesAStoppedWorker(t *testing.T) {
	proxyProbeReplacesAStoppedWorker(t, "wdproxy", "http", "POST", 8)
}

// Proxy tcp mode: a connect alone proves nothing (the kernel accepts into
// a stopped process's queue), so the probe also reads the process state:
// a SIGSTOPped server is found out and replaced; nothing fails.
func TestWatchdogProxyTCPProbeFindsAStoppedWorker(t *testing.T) {
	proxyProbeReplacesAStoppedWorker(t, "wdtcp", "tcp", "GET", 4)
}

// proxyProbeReplacesAStoppedWorker runs 2 workers behind --proxy kind with
// --watchdog 3s and no notify socket, under a patient load of conns
// connections sending method; one worker is SIGSTOPped and must be
// replaced by the liveness probe while the other stays.
func proxyProbeReplacesAStoppedWorker(t *testing.T, name, kind, method string, conns int) {
	m := e2etest.StartMaster(t, 2, "--name", name, "-w", "2", "--mode", "proxy", "--proxy", kind, "-l", "127.0.0.1:0",
		"--watchdog", "3s", "--", e2etest.HelloBin, "-addr", "127.0.0.1:{port}")
	l := patientLoad(t, m.Addr(), method, conns)
	st := m.Status()
	victim, other := st.Workers[0].PID, st.Workers[1].PID
	stopWorker(t, victim)
	replacedByWatchdog(t, m, victim, 2, []int{other})
	l.Stop(t)
}

// A worker that grows over --max-memory is recycled, surge first, with
// cause memory; the log names its memory and the limit.
func TestMaxMemoryRecyclesAWorkerThatGrows(t *testing.T) {
	srv := limitServer(t)
	m := e2etest.StartMaster(t, 2, "--name", "maxmem", "-w", "2", "-l", "127.0.0.1:0", "--max-memory", "64M", "--", srv)
	addr := m.Addr()
	l := e2etest.StartLoad(t, addr, "/", 8)
	resp, err := http.Get("http://" + addr + "/grow?mb=96")
	if err != nil {
		t.Fatal(err)
	}
	var grown struct {
		PID int `json:"pid"`
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(body, &grown); err != nil || grown.PID == 0 {
		t.Fatalf("grow: %q %v", body, err)
	}
	e2etest.WaitFor(t, "the grown worker recycled", 60*time.Second, func() bool {
		st := m.Status()
		return st.Recycled[supervisor.CauseMemory] >= 1 && !slices.Contains(e2etest.PIDs(st), grown.PID) && st.ReadyCount() == 2
	})
	out := m.Out.String()
	measured := strings.Contains(out, "(RSS of its process group)") || strings.Contains(out, "(memory of its cgroup)")
	if !strings.Contains(out, "over --max-memory 64M") || !measured {
		t.Errorf("the log does not name the memory, what it measured and the limit")
	}
	l.Stop(t)
	if st := m.Status(); st.Recycled[supervisor.CauseMemory] != 1 {
		t.Errorf("workers under the limit were recycled too: %+v", st.Recycled)
	}
}

// --max-requests 50 behind --proxy http: each worker is recycled after
// 50 to 55 requests, under load, and no request fails.
func TestMaxRequestsRecyclesBehindTheHTTPProxy(t *testing.T) {
	m := e2etest.StartMaster(t, 2, "--name", "maxreq", "-w", "2", "--mode", "proxy", "--proxy", "http", "-l", "127.0.0.1:0",
		"--max-requests", "50", "--", e2etest.HelloBin, "-addr", "127.0.0.1:{port}")
	first := e2etest.PIDs(m.Status())
	l := e2etest.StartLoadWith(t, loadtest.Options{Addr: m.Addr(), Method: "POST", Path: "/", Conns: 4})
	e2etest.WaitFor(t, "four recycles by request count", 60*time.Second, func() bool {
		return recycled(m, supervisor.CauseMaxRequests) >= 4
	})
	res := l.Stop(t)
	st := m.WaitReady(2, 30*time.Second)
	for _, p := range first {
		if slices.Contains(e2etest.PIDs(st), p) {
			t.Errorf("worker %d served %d requests and was never recycled", p, res.OK)
		}
	}
}

// --max-lifetime 2s: workers are recycled about every 2 to 2.2 s, under
// load, and no request fails.
func TestMaxLifetimeRecyclesUnderLoad(t *testing.T) {
	m := e2etest.StartMaster(t, 2, "--name", "maxlife", "-w", "2", "-l", "127.0.0.1:0", "--max-lifetime", "2s", "--", e2etest.HelloBin)
	l := e2etest.StartLoad(t, m.Addr(), "/", 8)
	e2etest.WaitFor(t, "four recycles by lifetime", 60*time.Second, func() bool {
		return recycled(m, supervisor.CauseMaxLifetime) >= 4
	})
	l.Stop(t)
	if out := m.Out.String(); !strings.Contains(out, "cause=max-lifetime") {
		t.Error("the log does not say why workers were replaced")
	}
}

func TestLimitsBadInputIsOneLine(t *testing.T) {
	ok := []string{"-l", "127.0.0.1:0", "--name", "badlim"}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"size", append(ok, "--max-memory", "512MB", "--", "true"), []string{"--max-memory", `"512MB" is not a size`, "512M, 1G or 300MiB"}},
		{"zero size", append(ok, "--max-memory", "0", "--", "true"), []string{"--max-memory", "greater than 0"}},
		{"watchdog duration", append(ok, "--watchdog", "often", "--", "true"), []string{"--watchdog", `"often" is not a duration`}},
		{"watchdog too short", append(ok, "--watchdog", "1ms", "--", "true"), []string{"--watchdog", "100ms or more"}},
		{"watchdog without notify", append(ok, "--watchdog", "5s", "--ready", "delay:1s", "--", "true"), []string{"--watchdog", "needs --ready notify"}},
		{"lifetime", append(ok, "--max-lifetime", "0", "--", "true"), []string{"--max-lifetime", "greater than 0"}},
		{"requests in inherit mode", append(ok, "--max-requests", "100", "--", "true"), []string{"--max-requests", "only valid with --mode proxy --proxy http"}},
		{"requests behind tcp", append(ok, "--mode", "proxy", "--max-requests", "100", "--", "true"), []string{"--max-requests", "--proxy http"}},
		{"negative requests", append(ok, "--mode", "proxy", "--proxy", "http", "--max-requests", "-1", "--", "true"), []string{"--max-requests", "-1 is not valid"}},
	}
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+e2etest.RuntimeDir(t))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := e2etest.RunBaton(t, env, append([]string{"run"}, tc.args...)...)
			line := strings.TrimSuffix(stderr, "\n")
			if code != 2 || line == "" || strings.Contains(line, "\n") {
				t.Fatalf("exit %d, stderr %q: want exit 2 and one line", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Fatalf("error line %q lacks %q", line, w)
				}
			}
		})
	}
}

// The README's Python watchdog recipe, as written: its workers ping and
// stay; one stopped with SIGSTOP is replaced.
func TestReadmeWatchdogPythonRecipe(t *testing.T) {
	python := peer(t, "python3", "apt-get install -y python3")
	r := readmeRecipe(t, "### --watchdog DUR: hung workers", "app.py")
	if !slices.Equal(r.command, []string{"python3", "app.py"}) || r.flag("--watchdog") != "3s" {
		t.Fatalf("README's watchdog recipe changed: %q -- %q", r.flags, r.command)
	}
	m := startRecipe(t, r, "wdpy", 2, map[string]string{"app.py": r.code["python"]}, python, "app.py")
	if body := get(t, m, "/"); body != "hello\n" {
		t.Fatalf("the recipe answered %q", body)
	}
	st := m.Status()
	victim, other := st.Workers[0].PID, st.Workers[1].PID
	stopWorker(t, victim)
	replacedByWatchdog(t, m, victim, 2, []int{other})
}
