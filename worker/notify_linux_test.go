package worker

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// notes receives the datagrams sent to a notify socket.
type notes struct{ conn *net.UnixConn }

// listenNotify listens on a unixgram socket named name.
func listenNotify(t *testing.T, name string) *notes {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &notes{conn}
}

// notifySocket points NOTIFY_SOCKET at a fresh socket for this test.
func notifySocket(t *testing.T) *notes {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	n := listenNotify(t, path)
	t.Setenv("NOTIFY_SOCKET", path)
	return n
}

// next returns the next datagram, failing the test after 10 s.
func (n *notes) next(t *testing.T) string {
	t.Helper()
	buf := make([]byte, 4096)
	_ = n.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	k, err := n.conn.Read(buf)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	return string(buf[:k])
}

func TestNotifyDatagrams(t *testing.T) {
	abstract := "@baton-worker-test-" + strconv.Itoa(os.Getpid())
	for _, name := range []string{filepath.Join(t.TempDir(), "notify"), abstract} {
		n := listenNotify(t, name)
		t.Setenv("NOTIFY_SOCKET", name)
		for _, send := range []func() error{Ready, func() error { return Status("3 conns\nok") }, Stopping,
			func() error { return Notify("READY=1\nSTATUS=x") }} {
			if err := send(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		for _, want := range []string{"READY=1", "STATUS=3 conns ok", "STOPPING=1", "READY=1\nSTATUS=x"} {
			if got := n.next(t); got != want {
				t.Fatalf("%s: got %q, want %q", name, got, want)
			}
		}
		if os.Getenv("NOTIFY_SOCKET") != name {
			t.Fatal("NOTIFY_SOCKET was unset")
		}
	}
}

func TestNotifyWithoutSocketIsNoOp(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if err := Ready(); err != nil {
		t.Fatal(err)
	}
}

func TestNotifyToMissingSocketFails(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "nobody"))
	if err := Ready(); err == nil {
		t.Fatal("want an error when nobody listens")
	}
}

func TestRunNotifiesDrainsAndRunsHooksInReverse(t *testing.T) {
	notes := notifySocket(t)
	stop := make(chan struct{})
	var order []int
	hook := func(i int) Option {
		return OnShutdown(func(context.Context) error { order = append(order, i); return nil })
	}
	serve := func(ready func()) error { ready(); ready(); <-stop; return nil }
	shutdowns := 0
	shutdown := func(context.Context) error { shutdowns++; close(stop); return nil }
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() { result <- Run(ctx, serve, shutdown, Logger(nil), hook(0), hook(1), hook(2)) }()
	if got := notes.next(t); got != "READY=1\nSTATUS=serving" {
		t.Fatalf("got %q", got)
	}
	cancel()
	if got := notes.next(t); got != "STOPPING=1\nSTATUS=draining" {
		t.Fatalf("got %q (READY=1 sent twice?)", got)
	}
	if err := <-result; err != nil {
		t.Fatal(err)
	}
	if shutdowns != 1 || len(order) != 3 || order[0] != 2 || order[1] != 1 || order[2] != 0 {
		t.Fatalf("shutdowns=%d hooks ran in order %v", shutdowns, order)
	}
}

// READY=1 comes once the server accepts, STOPPING=1 when it drains.
func TestServeNotifies(t *testing.T) {
	notes := notifySocket(t)
	var n atomic.Int64
	addr, drain, result := serveQuiet(t, counting(&n), func(o *options) { o.notify = true })
	if got := notes.next(t); got != "READY=1\nSTATUS=serving" {
		t.Fatalf("first notification %q", got)
	}
	resp, err := http.Post("http://"+addr, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	drain()
	if got := notes.next(t); got != "STOPPING=1\nSTATUS=draining" {
		t.Fatalf("second notification %q", got)
	}
	if err := <-result; err != nil {
		t.Fatal(err)
	}
}
