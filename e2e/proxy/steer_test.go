package proxy

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
	"github.com/batonhq/baton/internal/supervisor"
)

// steerApp is a Node server for --proxy tcp's kernel steering: it binds
// $PORT itself, answers "PID PORT" with the port the client's connection
// reached (the public one when the kernel steered it there, its own when
// the master proxied it), closes every connection after its answer unless
// the query has keep=1 (so an L4 drain has connections that end), and has
// no signal handler: SIGTERM kills it at once, so a drain that sends the
// stop signal too early loses requests.
const steerApp = `
const http = require('http');
const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  req.resume();
  if (u.searchParams.get('keep') !== '1') res.setHeader('Connection', 'close');
  setTimeout(() => res.end(process.pid + ' ' + req.socket.localPort + '\n'), Number(u.searchParams.get('sleep') || 0));
});
server.keepAliveTimeout = 0; // a held keep-alive connection stays until its client closes it
server.listen(Number(process.env.PORT), '127.0.0.1');
`

// startSteered runs 2 steerApp workers behind --proxy tcp, or skips where
// the kernel cannot steer (not root, no BPF sk_lookup): the proxy then
// serves every connection, which the other proxy tests cover.
func startSteered(t *testing.T, name string, args ...string) *e2etest.Master {
	t.Helper()
	nodeApp(t) // skips without Node
	app := e2etest.WriteScript(t, t.TempDir(), "steer.js", steerApp)
	m := e2etest.StartMaster(t, 2, append([]string{"--name", name, "-w", "2", "--mode", "proxy", "--proxy", "tcp", "-l", "127.0.0.1:0"},
		append(args, "--", "node", app)...)...)
	var st supervisor.Status
	e2etest.WaitFor(t, "both workers steered", 20*time.Second, func() bool {
		st = m.Status()
		return st.Proxy != nil && (strings.HasPrefix(st.Proxy.Steering, "kernel, 2 of 2") || strings.HasPrefix(st.Proxy.Steering, "off"))
	})
	if strings.HasPrefix(st.Proxy.Steering, "off") {
		t.Skipf("kernel steering is %s (it needs root and Linux 5.9+ with BPF sk_lookup)", st.Proxy.Steering)
	}
	return m
}

// answer sends one request on a fresh connection: the worker's pid and
// the port its connection reached.
func answer(t *testing.T, addr, query string) (pid, port int) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + "/?" + query)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	if _, err := fmt.Fscan(resp.Body, &pid, &port); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET: status %d, %v", resp.StatusCode, err)
	}
	return pid, port
}

func publicPort(t *testing.T, m *e2etest.Master) int {
	_, p, err := net.SplitHostPort(m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	var n int
	fmt.Sscan(p, &n)
	return n
}

// Steered connections reach the workers themselves (on the public port,
// the proxy copies nothing), and rollouts of a program that dies at once
// on SIGTERM fail nothing: each old worker leaves the kernel's rotation
// first and gets the signal only once its steered connections ended.
func TestProxyTCPSteeredRolloutsFailNothing(t *testing.T) {
	m := startSteered(t, "steer")
	want := publicPort(t, m)
	for i := 0; i < 10; i++ {
		if _, port := answer(t, m.Addr(), ""); port != want {
			t.Fatalf("a connection reached the worker on port %d, want the public %d (steered in the kernel)", port, want)
		}
	}
	l := proxyLoad(t, m.Addr(), "POST", "/?sleep=20", 16) // Connection: close: a fresh connection per request
	for i := 0; i < 6; i++ {
		m.Reload("")
	}
	res := l.Stop(t)
	st := m.Status()
	if !strings.HasPrefix(st.Proxy.Steering, "kernel, 2 of 2") || st.Proxy.SteeredWorkers != 2 || st.Proxy.BytesIn > uint64(res.OK)*10 {
		t.Fatalf("after 6 rollouts: steering %q, %d bytes proxied for %d requests", st.Proxy.Steering, st.Proxy.BytesIn, res.OK)
	}
	t.Logf("%d requests on fresh connections over 6 rollouts, %d bytes went through the master's proxy", res.OK, st.Proxy.BytesIn)
}

// With --steer off the master proxies every connection.
func TestProxyTCPSteerOffProxiesEverything(t *testing.T) {
	nodeApp(t)
	app := e2etest.WriteScript(t, t.TempDir(), "steer.js", steerApp)
	m := e2etest.StartMaster(t, 2, "--name", "steeroff", "-w", "2", "--mode", "proxy", "--proxy", "tcp", "--steer", "off", "-l", "127.0.0.1:0", "--", "node", app)
	if st := m.Status(); st.Proxy.Steering != "off" {
		t.Fatalf("steering %q with --steer off", st.Proxy.Steering)
	}
	if _, port := answer(t, m.Addr(), ""); port == publicPort(t, m) {
		t.Fatal("a connection reached the worker on the public port with --steer off")
	}
}

// A drain waits for the connections the kernel steered to the worker: a
// keep-alive connection held open keeps the old worker alive (and
// answering on it) until the client closes it.
func TestProxyTCPSteeredDrainWaitsForAnOpenConnection(t *testing.T) {
	m := startSteered(t, "steerdrain", "--drain-timeout", "60s")
	c, err := net.Dial("tcp", m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	ask := func() (int, error) {
		if _, err := fmt.Fprintf(c, "GET /?keep=1 HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return 0, err
		}
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		var pid int
		_, err = fmt.Fscan(resp.Body, &pid)
		return pid, err
	}
	old, err := ask()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() { _, _, code := m.Baton("reload", "--name", "steerdrain"); done <- code }()
	e2etest.WaitFor(t, "the old worker out of rotation, its connection open", 30*time.Second, func() bool {
		for _, w := range m.Status().Workers {
			if w.PID == old && w.Proxy != nil && !w.Proxy.InRotation && w.Proxy.Open >= 1 {
				return true
			}
		}
		return false
	})
	// New connections go to the new workers, the held one to the old.
	for i := 0; i < 5; i++ {
		if pid, _ := answer(t, m.Addr(), ""); pid == old {
			t.Fatalf("a new connection reached the draining worker %d", old)
		}
	}
	if pid, err := ask(); err != nil || pid != old {
		t.Fatalf("the held connection during the drain: pid %d, %v (want %d, answered)", pid, err, old)
	}
	c.Close()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("reload exit %d", code)
		}
	case <-time.After(50 * time.Second):
		t.Fatal("the reload did not end once the held connection closed")
	}
	e2etest.WaitFor(t, "the old worker gone", 20*time.Second, func() bool { return !e2etest.Alive(old) })
}

// A steered worker killed with -9 leaves the kernel's rotation with its
// listener: the connections after it go to the other worker or through
// the proxy, and none fails.
func TestProxyTCPSteeredWorkerKilledLosesNoNewConnection(t *testing.T) {
	m := startSteered(t, "steerkill")
	victim := m.Status().Workers[0].PID
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Reaped, not only a zombie: a multi-threaded program's main thread
	// shows as a zombie while its other threads still exit, with its
	// listener still open (the connections that reach it then are reset
	// with it: a kill -9's window, as in every mode).
	e2etest.WaitFor(t, "the killed worker reaped", 10*time.Second, func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/%d", victim))
		return os.IsNotExist(err)
	})
	var slowest time.Duration
	for i := 0; i < 50; i++ {
		start := time.Now()
		if pid, _ := answer(t, m.Addr(), ""); pid == victim {
			t.Fatalf("answered by the killed worker %d", victim)
		}
		slowest = max(slowest, time.Since(start))
	}
	t.Logf("50 requests after the kill, the slowest took %v", slowest)
	m.WaitReady(2, 30*time.Second)
}

// Go 1.24+ programs listen with Multipath TCP by default, which the
// kernel cannot steer to: such workers stay on the proxy, and serve.
func TestProxyTCPMultipathWorkersStayOnTheProxy(t *testing.T) {
	m := e2etest.StartMaster(t, 2, "--name", "steermp", "-w", "2", "--mode", "proxy", "--proxy", "tcp", "-l", "127.0.0.1:0",
		"--", e2etest.HelloBin, "-addr", "127.0.0.1:{port}")
	st := m.Status()
	if strings.HasPrefix(st.Proxy.Steering, "off") {
		t.Skipf("kernel steering is %s", st.Proxy.Steering)
	}
	for i := 0; i < 5; i++ {
		if code, _ := httpGet(t, "http://"+m.Addr()+"/"); code != 200 {
			t.Fatalf("status %d", code)
		}
	}
	st = m.Status()
	if st.Proxy.Steering != "kernel, 0 of 2 workers" || st.Proxy.BytesIn == 0 {
		t.Fatalf("Multipath TCP workers: steering %q, %d bytes proxied", st.Proxy.Steering, st.Proxy.BytesIn)
	}
	if out := m.Out.String(); !strings.Contains(out, "Multipath TCP") {
		t.Fatalf("the log does not say why the workers stay on the proxy:\n%s", out)
	}
}

// A steered worker that stops taking connections (SIGSTOP: hung, no
// --watchdog) is benched once its accept queue backs up: the kernel sends
// it nothing more, the next connections are all served, and once it runs
// again and empties its queue it is steered to again.
func TestProxyTCPSteeredStoppedWorkerIsBenched(t *testing.T) {
	m := startSteered(t, "steerstop")
	victim := m.Status().Workers[0].PID
	if err := syscall.Kill(victim, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(victim, syscall.SIGCONT)
	// Fill its queue: about half of these reach it and wait there.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 500 * time.Millisecond}
	done := make(chan struct{})
	for i := 0; i < 24; i++ {
		go func() {
			defer func() { done <- struct{}{} }()
			if resp, err := c.Get("http://" + m.Addr() + "/"); err == nil {
				resp.Body.Close()
			}
		}()
	}
	for i := 0; i < 24; i++ {
		<-done
	}
	e2etest.WaitFor(t, "the stopped worker benched", 10*time.Second, func() bool {
		return strings.HasPrefix(m.Status().Proxy.Steering, "kernel, 1 of 2")
	})
	for i := 0; i < 50; i++ {
		if pid, _ := answer(t, m.Addr(), ""); pid == victim {
			t.Fatalf("the stopped worker %d answered", victim)
		}
	}
	if err := syscall.Kill(victim, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	e2etest.WaitFor(t, "the worker steered to again once it caught up", 20*time.Second, func() bool {
		return strings.HasPrefix(m.Status().Proxy.Steering, "kernel, 2 of 2")
	})
	if out := m.Out.String(); !strings.Contains(out, "accept queue is backing up") {
		t.Fatalf("the log does not say why the worker was benched:\n%s", out)
	}
}
