package worker

import (
	"bufio"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The example server, built on this package, under systemd's own socket
// activation tool: it takes the socket, notifies, serves and drains.
func TestUnderSystemdSocketActivate(t *testing.T) {
	activate, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		t.Skip("systemd-socket-activate not installed: apt-get install -y systemd (.ci/run does)")
	}
	dir := t.TempDir()
	hello := filepath.Join(dir, "hello")
	if out, err := exec.Command("go", "build", "-o", hello, "../examples/hello").CombinedOutput(); err != nil {
		t.Fatalf("build hello: %v\n%s", err, out)
	}
	notifyPath := filepath.Join(dir, "notify")
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()
	port := freePort(t)
	cmd := exec.Command(activate, "-l", "127.0.0.1:"+port, "--fdname=http", "-E", "NOTIFY_SOCKET="+notifyPath, hello, "-addr", "127.0.0.1:1")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	logs := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs <- sc.Text()
		}
		close(logs)
	}()
	// systemd-socket-activate listens at once and starts hello on the
	// first connection, which waits in the socket's queue meanwhile.
	var conn net.Conn
	waitUntil(t, "the socket to listen", func() bool {
		conn, err = net.Dial("tcp", "127.0.0.1:"+port)
		return err == nil
	})
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 200") {
		t.Fatalf("response: %q %v", status, err)
	}
	got := map[string]bool{}
	buf := make([]byte, 256)
	for !got["READY=1"] {
		_ = notify.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := notify.Read(buf)
		if err != nil {
			t.Fatalf("no READY=1 (got %v): %v", got, err)
		}
		got[string(buf[:n])] = true
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("hello did not exit cleanly on SIGTERM: %v", err)
	}
	var all []string
	for l := range logs {
		all = append(all, l)
	}
	if !strings.Contains(strings.Join(all, "\n"), "drained") {
		t.Fatalf("no drain in the log: %q", all)
	}
}

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

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
