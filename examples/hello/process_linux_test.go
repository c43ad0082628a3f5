package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// build compiles hello once for the tests that run it as a process.
func build(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hello-test")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "hello")
		if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary != "" {
		os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}

// notifySocket listens where a supervisor would, and returns the
// datagrams it receives.
func notifySocket(t *testing.T) (string, <-chan string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	got := make(chan string, 16)
	go func() {
		buf := make([]byte, 1024)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			got <- string(buf[:n])
		}
	}()
	return path, got
}

// expect waits for a datagram that starts with prefix.
func expect(t *testing.T, got <-chan string, prefix string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case d := <-got:
			if strings.HasPrefix(d, prefix) {
				return
			}
		case <-deadline:
			t.Fatalf("no %q notification", prefix)
		}
	}
}

// logLines collects a process's stderr, and finds the address it serves.
type logLines struct {
	mu    sync.Mutex
	lines []string
	addr  chan string
	done  chan struct{}
}

func collect(r io.Reader) *logLines {
	l := &logLines{addr: make(chan string, 1), done: make(chan struct{})}
	re := regexp.MustCompile(`msg=serving .*\baddr=(\S+)`)
	go func() {
		defer close(l.done)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			l.mu.Lock()
			l.lines = append(l.lines, sc.Text())
			l.mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				l.addr <- m[1]
			}
		}
	}()
	return l
}

// servingAddr waits for the "serving" log line and returns its address.
func (l *logLines) servingAddr(t *testing.T) string {
	t.Helper()
	select {
	case a := <-l.addr:
		return a
	case <-l.done:
	case <-time.After(10 * time.Second):
	}
	t.Fatalf("no serving line in the log:\n%s", l)
	return ""
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// exited checks that the process, sent SIGTERM, exits 0 after logging
// its drain. Its stderr is read to the end first, as exec.Cmd.Wait
// closes the pipe.
func exited(t *testing.T, cmd *exec.Cmd, logs *logLines) {
	t.Helper()
	select {
	case <-logs.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30s after SIGTERM:\n%s", logs)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs)
	}
	if !strings.Contains(logs.String(), "msg=drained") {
		t.Fatalf("no drain in the log:\n%s", logs)
	}
}

// roundTrip writes one raw request on c and reads its response.
func roundTrip(t *testing.T, c net.Conn, br *bufio.Reader, target string) *http.Response {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: hello\r\nContent-Length: 0\r\n\r\n", target); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// Run alone: binds -addr, waits -ready-delay, notifies, serves, and on
// SIGTERM answers the request its keep-alive client has just sent (with
// Connection: close) before exiting 0.
func TestStandaloneProcessServesAndDrains(t *testing.T) {
	notifyPath, notes := notifySocket(t)
	cmd := exec.Command(build(t), "-addr", "127.0.0.1:0", "-ready-delay", "200ms")
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+notifyPath, "LISTEN_FDS=")
	cmd.Dir = t.TempDir()
	stderr, _ := cmd.StderrPipe()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	logs := collect(stderr)
	expect(t, notes, "READY=1")
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Fatalf("ready after %v despite -ready-delay 200ms", took)
	}
	c, err := net.Dial("tcp", logs.servingAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	if resp := roundTrip(t, c, br, "/"); resp.StatusCode != 200 || resp.Close {
		t.Fatalf("first request: %d close=%v", resp.StatusCode, resp.Close)
	}
	// The next request goes out on the idle keep-alive connection as the
	// drain begins: it must be answered, not cut off.
	if _, err := fmt.Fprint(c, "POST /?sleep=300ms HTTP/1.1\r\nHost: hello\r\nContent-Length: 0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("the request in flight during the drain: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !resp.Close {
		t.Fatalf("during the drain: %d close=%v, want 200 with Connection: close", resp.StatusCode, resp.Close)
	}
	expect(t, notes, "STOPPING=1")
	exited(t, cmd, logs)
}

// Under systemd's own socket-activation tool: takes the socket named
// "http", notifies, serves and drains.
func TestUnderSystemdSocketActivate(t *testing.T) {
	activate, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		t.Skip("systemd-socket-activate not found: install the Debian/Ubuntu package systemd (apt-get install -y systemd)")
	}
	notifyPath, notes := notifySocket(t)
	port := freePort(t)
	// -addr points nowhere useful: hello must use the inherited socket.
	cmd := exec.Command(activate, "-l", "127.0.0.1:"+port, "--fdname=http", "-E", "NOTIFY_SOCKET="+notifyPath,
		build(t), "-addr", "127.0.0.1:1")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	logs := collect(stderr)
	// systemd-socket-activate listens at once and execs hello in its place
	// on the first connection, which waits in the socket's queue meanwhile.
	var c net.Conn
	deadline := time.Now().Add(10 * time.Second)
	for c, err = net.Dial("tcp", "127.0.0.1:"+port); err != nil; c, err = net.Dial("tcp", "127.0.0.1:"+port) {
		if time.Now().After(deadline) {
			t.Fatalf("systemd-socket-activate never listened: %v\n%s", err, logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	defer c.Close()
	resp := roundTrip(t, c, bufio.NewReader(c), "/")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	expect(t, notes, "READY=1")
	if addr := logs.servingAddr(t); addr != "127.0.0.1:"+port {
		t.Fatalf("serves %s, not the inherited socket 127.0.0.1:%s", addr, port)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited(t, cmd, logs)
}

// freePort returns a port that was free a moment ago
// (systemd-socket-activate does not accept port 0).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
