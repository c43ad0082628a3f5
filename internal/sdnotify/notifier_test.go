package sdnotify

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/wire"
	"golang.org/x/sys/unix"
)

func listen(t *testing.T) (*net.UnixConn, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, path
}

func TestSendWithDescriptors(t *testing.T) {
	c, path := listen(t)
	n := FromEnv(func(k string) string {
		if k == wire.EnvNotifySocket {
			return path
		}
		return ""
	})
	f, err := os.CreateTemp(t.TempDir(), "fd")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := n.Send(Lines("FDSTORE=1", "FDNAME=web"), f); err != nil {
		t.Fatal(err)
	}
	buf, oob := make([]byte, 512), make([]byte, 512)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	nb, noob, _, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(buf[:nb]); got != "FDSTORE=1\nFDNAME=web\n" {
		t.Fatalf("datagram %q", got)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:noob])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages %v %v", msgs, err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("rights %v %v", fds, err)
	}
	unix.Close(fds[0])
}

func TestDisabledSendsNothing(t *testing.T) {
	var n *Notifier
	if n.Enabled() || n.Send("READY=1\n") != nil {
		t.Fatal("a nil notifier must be disabled and quiet")
	}
	if FromEnv(func(string) string { return "" }) != nil {
		t.Fatal("no NOTIFY_SOCKET: want nil")
	}
}

func TestHelpers(t *testing.T) {
	if got := Status(" a\nb "); got != "STATUS=a b" {
		t.Fatalf("Status: %q", got)
	}
	if m := Monotonic(); !strings.HasPrefix(m, "MONOTONIC_USEC=") || len(m) < len("MONOTONIC_USEC=1") {
		t.Fatalf("Monotonic: %q", m)
	}
	if n := wire.ParseNotify([]byte(Lines("RELOADING=1", Monotonic()))); !n.Reloading {
		t.Fatal("RELOADING=1 does not parse back")
	}
}
