package sockets

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/config"
	"golang.org/x/sys/unix"
)

// shutdownLikeAWorker does what some servers do to wake their accept
// threads on exit: shutdown() on their copy of the listening socket, which
// shares the open file description with the master's.
func shutdownLikeAWorker(t *testing.T, s *Socket) {
	t.Helper()
	fd, err := unix.Dup(int(s.File.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Shutdown(fd, unix.SHUT_RDWR); err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestHealListensAgainAfterAWorkerShutTheSocketDown(t *testing.T) {
	for _, addr := range []string{freePort(t), "127.0.0.1:0"} {
		s, err := Bind(config.Listen{Name: "web", Network: "tcp", Address: addr})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		shutdownLikeAWorker(t, s)
		if ok, err := s.Listening(); ok || err != nil {
			t.Fatalf("%s: after shutdown Listening() = %v, %v", addr, ok, err)
		}
		if c, err := net.Dial("tcp", s.Addr); err == nil {
			c.Close()
			t.Fatalf("%s: connect succeeded on a shut socket", addr)
		}
		healed, err := s.Heal()
		if !healed || err != nil {
			t.Fatalf("%s: Heal() = %v, %v", addr, healed, err)
		}
		acceptOne(t, s)
		if healed, err := s.Heal(); healed || err != nil {
			t.Fatalf("%s: second Heal() = %v, %v", addr, healed, err)
		}
	}
}

// acceptOne connects to s and accepts the connection on s, as a worker
// sharing the socket would.
func acceptOne(t *testing.T, s *Socket) {
	t.Helper()
	ln, err := net.FileListener(s.File)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.DialTimeout(s.Network, s.Addr, time.Second)
	if err != nil {
		t.Fatalf("connect after heal: %v", err)
	}
	defer c.Close()
	ln.(interface{ SetDeadline(time.Time) error }).SetDeadline(time.Now().Add(2 * time.Second))
	a, err := ln.Accept()
	if err != nil {
		t.Fatalf("accept after heal: %v", err)
	}
	a.Close()
}

func TestHealLeavesAHealthySocketAlone(t *testing.T) {
	s, err := Bind(config.Listen{Name: "web", Network: "tcp", Address: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ok, err := s.Listening(); !ok || err != nil {
		t.Fatalf("Listening() = %v, %v", ok, err)
	}
	if healed, err := s.Heal(); healed || err != nil {
		t.Fatalf("Heal() = %v, %v", healed, err)
	}
	acceptOne(t, s)
}

// On Linux a unix listening socket that was shut down stays in LISTEN
// state (SO_ACCEPTCONN is still 1) but refuses every connection, and
// listen() does not restore it. Listening sees it; Heal says so.
func TestHealReportsAShutUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.sock")
	s, err := Bind(config.Listen{Name: "api", Network: "unix", Address: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ok, err := s.Listening(); !ok || err != nil {
		t.Fatalf("fresh: Listening() = %v, %v", ok, err)
	}
	shutdownLikeAWorker(t, s)
	if ok, err := s.Listening(); ok || err != nil {
		t.Fatalf("after shutdown: Listening() = %v, %v", ok, err)
	}
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		t.Fatal("connect succeeded on a shut unix socket")
	}
	healed, err := s.Heal()
	if healed || !errors.Is(err, ErrCannotListenAgain) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Heal() = %v, %v", healed, err)
	}
	// What the kernel does, checked so that a kernel that changes shows up
	// here: listen() again does not bring it back.
	_ = unix.Listen(int(s.File.Fd()), 16)
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		t.Log("this kernel restores a shut unix socket with listen(): Heal could do it")
	}
}
