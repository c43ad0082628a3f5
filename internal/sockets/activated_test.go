package sockets

import (
	"path/filepath"
	"testing"

	"github.com/batonhq/baton/internal/config"
)

func TestMatchPassedByNameThenAddress(t *testing.T) {
	web := config.Listen{Name: "web", Network: "tcp", Address: "127.0.0.1:8080"}
	any := config.Listen{Name: "socket1", Network: "tcp", Address: ":9090"}
	sock := config.Listen{Name: "admin", Network: "unix", Address: "/run/app.sock"}
	passed := []Passed{
		{FD: 3, Name: "web", Network: "tcp", Address: "127.0.0.1:9999"}, // named web, wrong port
		{FD: 4, Name: "baton.socket", Network: "tcp", Address: "127.0.0.1:8080"},
		{FD: 5, Name: "web", Network: "tcp", Address: "127.0.0.1:8080"},
		{FD: 6, Name: "unknown", Network: "tcp", Address: "[::]:9090"},
		{FD: 7, Name: "unknown", Network: "unix", Address: "/run/app.sock"},
		{FD: 8, Name: "x"}, // not a listening socket
	}
	used := map[int]bool{}
	for _, c := range []struct {
		l    config.Listen
		want int
	}{{web, 2}, {web, 1}, {web, -1}, {any, 3}, {sock, 4}} {
		got := MatchPassed(c.l, passed, used)
		if got != c.want {
			t.Fatalf("%s: matched %d, want %d", c.l.Address, got, c.want)
		}
		if got >= 0 {
			used[got] = true
		}
	}
	if MatchPassed(config.Listen{Name: "other", Network: "tcp", Address: "127.0.0.1:0"}, passed, map[int]bool{}) != -1 {
		t.Fatal("port 0 must match no unnamed passed socket")
	}
	if got := MatchPassed(config.Listen{Name: "web", Network: "tcp", Address: "127.0.0.1:0"}, passed, map[int]bool{}); got != 0 {
		t.Fatalf("port 0 named web: matched %d, want the first socket named web", got)
	}
}

func TestDescribePassedReadsTheKernel(t *testing.T) {
	tcp, err := Bind(config.Listen{Name: "a", Network: "tcp", Address: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	path := filepath.Join(t.TempDir(), "s.sock")
	us, err := Bind(config.Listen{Name: "b", Network: "unix", Address: path})
	if err != nil {
		t.Fatal(err)
	}
	defer us.Close()
	if p := DescribePassed(int(tcp.File.Fd()), "a"); p.Network != "tcp" || p.Address != tcp.Addr {
		t.Fatalf("tcp: %+v, want %s", p, tcp.Addr)
	}
	if p := DescribePassed(int(us.File.Fd()), "b"); p.Network != "unix" || p.Address != path {
		t.Fatalf("unix: %+v", p)
	}
}
