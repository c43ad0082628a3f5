package worker

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
)

func TestStandaloneBindsFallback(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "unix:" + filepath.Join(t.TempDir(), "s.sock")} {
		ln, err := Listen("http", addr)
		if err != nil {
			t.Fatal(err)
		}
		network, where := "tcp", ln.Addr().String()
		if strings.HasPrefix(addr, "unix:") {
			network, where = "unix", strings.TrimPrefix(addr, "unix:")
		}
		c, err := net.Dial(network, where)
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		c.Close()
		ln.Close()
	}
	if _, err := Listen("http", ""); err == nil {
		t.Fatal("no socket and no fallback: want an error")
	}
	if _, err := Listen("http", "unix:"+filepath.Join(t.TempDir(), "missing-dir", "s.sock")); err == nil ||
		!strings.HasPrefix(err.Error(), "bind fallback address unix:") {
		t.Fatalf("want a bind error naming the address, got %v", err)
	}
}
