package proxy

import (
	"bufio"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
)

// --proxy http in front of real servers that do odd things: HTTP/1.0
// bodies that end with the connection, a body sent to HEAD, idle
// connections closed after a millisecond.

// needProgram skips the test when a runtime it runs is not installed.
func needProgram(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed: this test runs it behind the proxy", name)
	}
}

// compatFile is a file of testdata/compat.
func compatFile(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "compat", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// keepAliveClient sends methods in turn on one keep-alive connection
// (a new one only when the proxy closes it), never sending a request
// twice, with pause() between requests, until stop is closed; it reports
// what failed (a transport error or a status other than 200).
type keepAliveClient struct {
	mu     sync.Mutex
	ok     int
	failed []string
	done   chan struct{}
}

func startKeepAliveClient(addr string, methods []string, pause func() time.Duration, stop <-chan struct{}) *keepAliveClient {
	k := &keepAliveClient{done: make(chan struct{})}
	go func() {
		defer close(k.done)
		var c net.Conn
		var br *bufio.Reader
		defer func() {
			if c != nil {
				c.Close()
			}
		}()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if c == nil {
				var err error
				if c, err = net.DialTimeout("tcp", addr, 5*time.Second); err != nil {
					k.fail("dial: " + err.Error())
					return
				}
				br = bufio.NewReader(c)
			}
			m := methods[i%len(methods)]
			closed, err := exchangeOn(c, br, m)
			if err != nil {
				k.fail(fmt.Sprintf("%s #%d: %v", m, i, err))
			} else {
				k.mu.Lock()
				k.ok++
				k.mu.Unlock()
			}
			if err != nil || closed {
				c.Close()
				c = nil
			}
			time.Sleep(pause()) // a client's think time, not a wait for anything
		}
	}()
	return k
}

func (k *keepAliveClient) fail(s string) {
	k.mu.Lock()
	k.failed = append(k.failed, s)
	k.mu.Unlock()
}

// wait returns once the client stopped: how many requests were answered
// 200, and what failed.
func (k *keepAliveClient) wait() (int, []string) {
	<-k.done
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.ok, k.failed
}

// exchangeOn sends one request with method on c and reads its answer,
// which must be a 200; close says the proxy ends the connection.
func exchangeOn(c net.Conn, br *bufio.Reader, method string) (close bool, err error) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	body := ""
	if method == "POST" {
		body = "a=1"
	}
	if _, err := fmt.Fprintf(c, "%s /x?q=%%41 HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s", method, len(body), body); err != nil {
		return true, err
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return true, err
	}
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return true, fmt.Errorf("body: %w", err)
	}
	if resp.StatusCode != 200 || (method != "HEAD" && len(got) == 0) {
		return true, fmt.Errorf("%s %q", resp.Status, got)
	}
	return resp.Close, nil
}

// clientsUnderRollouts runs n keep-alive clients of methods against m
// while it does rollouts rollouts, and fails the test on any failure.
func clientsUnderRollouts(t *testing.T, m *e2etest.Master, n, rollouts int, methods []string, pause func() time.Duration) {
	t.Helper()
	stop := make(chan struct{})
	var clients []*keepAliveClient
	for i := 0; i < n; i++ {
		clients = append(clients, startKeepAliveClient(m.Addr(), methods, pause, stop))
	}
	e2etest.WaitFor(t, "the clients' first answers", 20*time.Second, func() bool {
		for _, k := range clients {
			k.mu.Lock()
			ok := k.ok + len(k.failed)
			k.mu.Unlock()
			if ok == 0 {
				return false
			}
		}
		return true
	})
	for i := 0; i < rollouts; i++ {
		m.Reload("")
	}
	close(stop)
	total := 0
	for _, k := range clients {
		ok, failed := k.wait()
		total += ok
		for _, f := range failed {
			t.Errorf("failed: %s", f)
		}
	}
	st := m.Status()
	t.Logf("%d rollouts, %d requests answered, proxy %+v", rollouts, total, *st.Proxy)
	if total == 0 {
		t.Fatal("no request was answered")
	}
}

func TestProxyHTTPNaivePythonServers(t *testing.T) {
	needProgram(t, "python3")
	app := compatFile(t, "naive.py")
	for _, tc := range []struct{ name, env string }{
		{"http1.0 body ends with the connection", "NO_LENGTH=1"},
		{"http1.1 keep-alive body sent to HEAD", "PROTO=HTTP/1.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := e2etest.StartMaster(t, 2, "--name", "pxnaive", "-w", "2", "--mode", "proxy", "--proxy", "http",
				"-l", "127.0.0.1:0", "--env", tc.env, "--", "python3", app)
			clientsUnderRollouts(t, m, 4, 1, []string{"HEAD", "GET", "POST", "GET"}, func() time.Duration { return 0 })
		})
	}
}

func TestProxyHTTPGunicornAnswersHeadLikeGet(t *testing.T) {
	// A WSGI app that answers HEAD as GET: gunicorn sends the body; the
	// GET after the HEAD on the same worker connection got it as its
	// response (a 502) until the proxy stopped keeping such a connection.
	needProgram(t, "gunicorn")
	m := e2etest.StartMaster(t, 1, "--name", "pxguni", "-w", "1", "--mode", "proxy", "--proxy", "http",
		"-l", "127.0.0.1:0", "--dir", compatFile(t, ""), "--",
		"gunicorn", "-k", "gthread", "--threads", "4", "-b", "127.0.0.1:{port}", "wsgi_app:app")
	clientsUnderRollouts(t, m, 2, 1, []string{"HEAD", "GET"}, func() time.Duration { return 0 })
}

func TestProxyHTTPNodeClosingIdleConnectionsAtOnce(t *testing.T) {
	// The classic race: Node with keepAliveTimeout = 1 closes idle
	// connections as soon as it can (Node 20.20 and later: after a
	// second). Clients that pause up to 1.2 s between requests make the
	// proxy's connections to the workers idle for every length: no GET and
	// no POST fails, a POST is never sent twice.
	app := nodeApp(t)
	m := e2etest.StartMaster(t, 2, "--name", "pxnodeka", "-w", "2", "--mode", "proxy", "--proxy", "http",
		"-l", "127.0.0.1:0", "--env", "KEEPALIVE_MS=1", "--", "node", app)
	l := proxyLoad(t, m.Addr(), "POST", "/", 4)
	clientsUnderRollouts(t, m, 24, 3, []string{"POST", "GET"}, func() time.Duration {
		return time.Duration(rand.Int63n(int64(1200 * time.Millisecond)))
	})
	l.Stop(t)
}
