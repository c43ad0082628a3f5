package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
	"github.com/batonhq/baton/internal/loadtest"
	"github.com/batonhq/baton/internal/supervisor"
)

// nodeRollouts is how many rollouts the Node proxy tests run under load:
// the proxy issue's figure, enough to catch a race at every step of a
// drain. Python's http.server, a new connection per request, gets fewer:
// it has no keep-alive race to catch, and each rollout is slow.
const (
	nodeRollouts   = 20
	pythonRollouts = 4
)

// nodeApp is the Node server of testdata/proxy, or a skip without Node.
func nodeApp(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the proxy tests run an unmodified Node server")
	}
	p, err := filepath.Abs("testdata/proxy/app.js")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// proxyLoad runs a never-retrying load with method on m until stop.
func proxyLoad(t *testing.T, addr, method, path string, conns int) *e2etest.Load {
	t.Helper()
	return e2etest.StartLoadWith(t, loadtest.Options{Addr: addr, Method: method, Path: path, Conns: conns})
}

// rolloutsBehindProxy runs n rollouts of cmd behind the proxy
// under keep-alive POST load (which no client replays): 0 failed.
func rolloutsBehindProxy(t *testing.T, n int, name string, args []string, method string) {
	m := e2etest.StartMaster(t, 2, append([]string{"--name", name, "-w", "2", "--mode", "proxy", "-l", "127.0.0.1:0"}, args...)...)
	l := proxyLoad(t, m.Addr(), method, "/?sleep=5", 16)
	for i := 0; i < n; i++ {
		m.Reload("")
	}
	res := l.Stop(t)
	st := m.Status()
	if g := e2etest.Generations(st); g[n+1] != 2 || len(g) != 1 {
		t.Fatalf("generations after %d rollouts: %v", n, g)
	}
	t.Logf("%d rollouts, %d requests, proxy %+v", n, res.OK, *st.Proxy)
}

func TestProxyHTTPNodeServerCloseRollouts(t *testing.T) {
	app := nodeApp(t)
	rolloutsBehindProxy(t, nodeRollouts, "pxnode", []string{"--proxy", "http", "--env", "GRACE=1", "--", "node", app}, "POST")
}

func TestProxyHTTPNodeWithoutSignalHandlerRollouts(t *testing.T) {
	app := nodeApp(t)
	rolloutsBehindProxy(t, nodeRollouts, "pxbare", []string{"--proxy", "http", "--port-env", "HTTP_PORT", "--", "node", app}, "POST")
}

func TestProxyTCPPythonHTTPServerRollouts(t *testing.T) {
	// http.server speaks HTTP/1.0: a new connection for every request.
	rolloutsBehindProxy(t, pythonRollouts, "pxpy", []string{"--proxy", "tcp", "--", "python3", "-m", "http.server", "--bind", "127.0.0.1", "{port}"}, "GET")
}

// TestProxyWorkersOnTheIPv6LoopbackAlone: a program told to listen on
// "localhost" binds [::1]:$PORT alone wherever /etc/hosts lists ::1 first
// (Node since 17, on Debian and Ubuntu). Behind both proxies such workers
// become ready and serve through rollouts, with nothing failed: the Node
// server behind --proxy http under keep-alive load, Python's http.server
// behind --proxy tcp.
func TestProxyWorkersOnTheIPv6LoopbackAlone(t *testing.T) {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here (%v): a worker cannot bind [::1]", err)
	}
	ln.Close()
	app := nodeApp(t)
	t.Run("http", func(t *testing.T) {
		rolloutsBehindProxy(t, 2, "px6h", []string{"--proxy", "http", "--env", "HOST=::1", "--", "node", app}, "POST")
	})
	t.Run("tcp", func(t *testing.T) {
		rolloutsBehindProxy(t, 1, "px6t", []string{"--proxy", "tcp", "--", "python3", "-m", "http.server", "--bind", "::1", "{port}"}, "GET")
	})
}

func TestProxyWorkerOnTheWrongPortNeverBecomesReady(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "baton.toml")
	writeConfig := func(port string) {
		body := fmt.Sprintf("command = [\"python3\", \"-m\", \"http.server\", \"--bind\", \"127.0.0.1\", %q]\n", port)
		if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeConfig("{port}")
	m := e2etest.StartMaster(t, 2, "--name", "pxwrong", "-c", cfg, "-w", "2", "--mode", "proxy", "--proxy", "tcp",
		"--ready-timeout", "3s", "-l", "127.0.0.1:0")
	before := e2etest.PIDs(m.Status())
	writeConfig(fmt.Sprint(freePort(t))) // binds a port of its own choosing, not $PORT
	_, stderr, code := m.Baton("reload", "--name", "pxwrong")
	if code != 1 {
		t.Fatalf("reload exit %d, want 1: %s", code, stderr)
	}
	// The failure says why: what the probe of the private port got.
	if !strings.Contains(stderr, "not ready within --ready-timeout 3s: last tcp probe: dial tcp 127.0.0.1:") || !strings.Contains(stderr, "connection refused") {
		t.Errorf("reload's error does not say what the readiness probe got:\n%s", stderr)
	}
	st := m.WaitReady(2, 20*time.Second)
	if fmt.Sprint(e2etest.PIDs(st)) != fmt.Sprint(before) {
		t.Fatalf("old workers %v replaced by %v", before, e2etest.PIDs(st))
	}
	for i := 0; i < 5; i++ {
		if code, _ := httpGet(t, "http://"+m.Addr()+"/"); code != 200 {
			t.Fatalf("old workers do not serve: %d", code)
		}
	}
}

func TestProxyHTTPKill9RetriesIdempotentAndFailsAPost(t *testing.T) {
	app := nodeApp(t)
	m := e2etest.StartMaster(t, 2, "--name", "pxkill", "-w", "2", "--mode", "proxy", "--proxy", "http", "-l", "127.0.0.1:0", "--", "node", app)
	addr := m.Addr()
	codes := make(chan [2]string, 8)
	var wg sync.WaitGroup
	// Each worker gets two GETs and two POSTs (least open, round-robin).
	for i, method := range []string{"GET", "POST", "POST", "GET", "GET", "POST", "POST", "GET"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := httpDo(t, method, "http://"+addr+"/?sleep=4000")
			codes <- [2]string{method, fmt.Sprint(code)}
		}()
		e2etest.WaitFor(t, "the request in flight", 10*time.Second, func() bool { return openTotal(m.Status()) == int64(i+1) })
	}
	victim := m.Status().Workers[0].PID
	_ = syscall.Kill(victim, syscall.SIGKILL)
	wg.Wait()
	close(codes)
	failedPosts := 0
	for c := range codes {
		switch {
		case c[0] == "GET" && c[1] != "200":
			t.Errorf("a GET in flight on the killed worker was not retried: %s", c[1])
		case c[0] == "POST" && c[1] == "502":
			failedPosts++
		case c[0] == "POST" && c[1] != "200":
			t.Errorf("POST: %s", c[1])
		}
	}
	st := m.Status()
	if failedPosts != 2 || st.Proxy.Retries < 2 || st.Proxy.Failed < 2 {
		t.Fatalf("%d POSTs failed (want the 2 on the killed worker), proxy %+v", failedPosts, *st.Proxy)
	}
}

func TestProxyAllWorkersCrashedClientsWait(t *testing.T) {
	app := nodeApp(t)
	m := e2etest.StartMaster(t, 2, "--name", "pxcrash", "-w", "2", "--mode", "proxy", "--proxy", "http", "-l", "127.0.0.1:0", "--", "node", app)
	addr := m.Addr()
	killed := e2etest.PIDs(m.Status())
	for _, pid := range killed {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	// Once the master saw both exits, the respawned workers are (most
	// likely) still starting when the requests arrive: they wait.
	e2etest.WaitFor(t, "both exits", 10*time.Second, func() bool {
		st := m.Status()
		for _, w := range st.Workers {
			if w.PID == killed[0] || w.PID == killed[1] {
				return false
			}
		}
		return true
	})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, body := httpDo(t, "POST", "http://"+addr+"/"); code != 200 {
				t.Errorf("with every worker crashed: %d %s", code, body)
			}
		}()
	}
	wg.Wait()
	st := m.Status()
	if st.Proxy.NoWorker != 0 {
		t.Fatalf("proxy %+v", *st.Proxy)
	}
	t.Logf("proxy %+v", *st.Proxy)
}

func TestProxyHTTPStreamsEventsAsSent(t *testing.T) {
	app := nodeApp(t)
	m := e2etest.StartMaster(t, 1, "--name", "pxsse", "-w", "1", "--mode", "proxy", "--proxy", "http", "-l", "127.0.0.1:0", "--", "node", app)
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Get("http://" + m.Addr() + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	var at []time.Time
	for i := 0; i < 3; i++ {
		line, err := r.ReadString('\n')
		if err != nil || line != fmt.Sprintf("data: %d\n", i) {
			t.Fatalf("event %d: %q %v", i, line, err)
		}
		at = append(at, time.Now())
		_, _ = r.ReadString('\n')
	}
	// The server sends one event every 300 ms: buffered, they would come together.
	if gap := at[2].Sub(at[0]); gap < 300*time.Millisecond {
		t.Fatalf("events 0 and 2 arrived %s apart: not streamed as sent", gap)
	}
}

func TestProxyHTTPUpgradedConnectionSurvivesARollout(t *testing.T) {
	app := nodeApp(t)
	m := e2etest.StartMaster(t, 1, "--name", "pxws", "-w", "1", "--mode", "proxy", "--proxy", "http", "-l", "127.0.0.1:0", "--drain-timeout", "30s", "--", "node", app)
	c, err := net.Dial("tcp", m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprint(c, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	echo(t, c, r, "before")
	done := make(chan supervisor.RolloutStatus, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		st, err := m.Ctl.Reload(ctx, "", nil)
		if err != nil {
			t.Errorf("reload: %v", err)
		}
		done <- st
	}()
	e2etest.WaitFor(t, "the old worker to drain", 20*time.Second, func() bool { return e2etest.CountState(m.Status(), supervisor.Draining) == 1 })
	echo(t, c, r, "during the rollout")
	c.Close() // it ends by itself: only then does the old worker get its signal
	if st := <-done; st.State != supervisor.RolloutDone || st.Killed != 0 {
		t.Fatalf("rollout: %+v", st)
	}
}

func echo(t *testing.T, c net.Conn, r *bufio.Reader, msg string) {
	t.Helper()
	fmt.Fprintln(c, msg)
	line, err := r.ReadString('\n')
	if err != nil || line != msg+"\n" {
		t.Fatalf("echo %q: %q %v", msg, line, err)
	}
}

func openTotal(st supervisor.Status) int64 {
	var n int64
	for _, w := range st.Workers {
		if w.Proxy != nil {
			n += w.Proxy.Open
		}
	}
	return n
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// httpDo sends one request on a fresh connection (the client never
// retries it) and returns the status and body.
func httpDo(t *testing.T, method, url string) (int, string) {
	req, err := http.NewRequest(method, url, strings.NewReader("body"))
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func httpGet(t *testing.T, url string) (int, string) { return httpDo(t, "GET", url) }

func TestProxyHTTPMasterUpgradesUnderLoadFailNothing(t *testing.T) {
	app := nodeApp(t)
	u := e2etest.StartUpgradable(t, e2etest.BatonBin, 2, "--name", "pxup", "-w", "2", "--mode", "proxy", "--proxy", "http",
		"-l", "127.0.0.1:0", "--", "node", app)
	first := u.MustStatus()
	l := proxyLoad(t, first.Sockets[0].Address, "POST", "/?sleep=5", 16)
	seen := map[int]bool{first.PID: true}
	for i := 1; i <= 3; i++ {
		out, code := u.Upgrade()
		if code != 0 || !strings.Contains(out, "upgrade done") {
			t.Fatalf("upgrade %d: exit %d\n%s", i, code, out)
		}
		seen[u.MustStatus().PID] = true
	}
	l.Stop(t)
	st := u.MustStatus()
	if len(seen) != 4 || st.Proxy == nil || e2etest.CountState(st, supervisor.Ready) != 2 {
		t.Fatalf("after 3 upgrades: masters %v, status %+v", seen, st)
	}
	for pid := range seen {
		if pid != st.PID {
			e2etest.WaitFor(t, "old masters to exit", 30*time.Second, func() bool { return !e2etest.Alive(pid) })
		}
	}
}

func TestProxyWorkerSeesAPrivatePortAndNoSockets(t *testing.T) {
	app, _ := filepath.Abs("testdata/proxy/env.py")
	m := e2etest.StartMaster(t, 2, "--name", "pxenv", "-w", "2", "--mode", "proxy", "--proxy", "http", "--ready", "http:/",
		"-l", "127.0.0.1:0", "--", "sh", "-c", "ARGV_PORT=$1 exec python3 \"$0\"", app, "{port}")
	st := m.Status()
	ports := map[string]bool{}
	for _, w := range st.Workers {
		if w.Proxy == nil || w.Proxy.Port == 0 || !w.Proxy.InRotation {
			t.Fatalf("worker %d: proxy status %+v", w.Slot, w.Proxy)
		}
		ports[fmt.Sprint(w.Proxy.Port)] = true
	}
	for i := 0; i < 6; i++ {
		code, body := httpGet(t, "http://"+m.Addr()+"/")
		var seen map[string]string
		if code != 200 || json.Unmarshal([]byte(body), &seen) != nil {
			t.Fatalf("status %d: %s", code, body)
		}
		if !ports[seen["PORT"]] || seen["argv_port"] != seen["PORT"] || seen["LISTEN_FDS"] != "" || seen["xff"] != "127.0.0.1" {
			t.Fatalf("the worker saw %v; ports %v", seen, ports)
		}
	}
}

func TestProxyTCPMasterUpgradeFailsNothing(t *testing.T) {
	u := e2etest.StartUpgradable(t, e2etest.BatonBin, 2, "--name", "pxuptcp", "-w", "2", "--mode", "proxy", "--proxy", "tcp",
		"-l", "127.0.0.1:0", "--", "python3", "-m", "http.server", "--bind", "127.0.0.1", "{port}")
	first := u.MustStatus()
	l := proxyLoad(t, first.Sockets[0].Address, "GET", "/", 8) // a connection per request (HTTP/1.0)
	for i := 1; i <= 2; i++ {
		if out, code := u.Upgrade(); code != 0 || !strings.Contains(out, "upgrade done") {
			t.Fatalf("upgrade %d: exit %d\n%s", i, code, out)
		}
	}
	l.Stop(t)
	st := u.MustStatus()
	if st.PID == first.PID || st.Proxy == nil || st.Proxy.Kind != "tcp" || e2etest.CountState(st, supervisor.Ready) != 2 {
		t.Fatalf("after 2 upgrades: %+v", st)
	}
	e2etest.WaitFor(t, "the first master to exit", 30*time.Second, func() bool { return !e2etest.Alive(first.PID) })
}
