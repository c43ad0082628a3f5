package worker

import (
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestNotifyDatagrams(t *testing.T) {
	for _, name := range []string{filepath.Join(t.TempDir(), "notify"), "@baton-test-" + strconv.Itoa(int(time.Now().UnixNano()))} {
		conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv("NOTIFY_SOCKET", name)
		if err := Ready(); err != nil {
			t.Fatal(err)
		}
		if err := Status("3 conns\nok"); err != nil {
			t.Fatal(err)
		}
		if err := Stopping(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 512)
		for _, want := range []string{"READY=1", "STATUS=3 conns ok", "STOPPING=1"} {
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := conn.Read(buf)
			if err != nil || string(buf[:n]) != want {
				t.Fatalf("%s: got %q %v, want %q", name, buf[:n], err, want)
			}
		}
		conn.Close()
	}
}

func TestNotifyWithoutSocketIsNoOp(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if err := Ready(); err != nil {
		t.Fatal(err)
	}
}
