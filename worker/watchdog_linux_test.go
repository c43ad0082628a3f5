package worker

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"
)

// watchdogEnv turns this process's watchdog on at interval for the test.
func watchdogEnv(t *testing.T, interval time.Duration, pid int) {
	t.Setenv("WATCHDOG_USEC", strconv.FormatInt(interval.Microseconds(), 10))
	t.Setenv("WATCHDOG_PID", strconv.Itoa(pid))
}

func TestWatchdogPingsAtHalfTheInterval(t *testing.T) {
	n := notifySocket(t)
	watchdogEnv(t, 200*time.Millisecond, os.Getpid())
	if d, err := WatchdogInterval(); err != nil || d != 200*time.Millisecond {
		t.Fatalf("interval %v %v", d, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Watchdog(ctx, nil) }()
	for i := 0; i < 3; i++ {
		if got := n.next(t); got != "WATCHDOG=1" {
			t.Fatalf("datagram %q", got)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Pings are sent only while the check passes.
func TestWatchdogCheckGatesThePings(t *testing.T) {
	n := notifySocket(t)
	watchdogEnv(t, 100*time.Millisecond, os.Getpid())
	checks := 0
	check := func(context.Context) error {
		checks++
		if checks <= 3 {
			return errors.New("database down")
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	go func() { _ = Watchdog(ctx, check) }()
	if got := n.next(t); got != "WATCHDOG=1" {
		t.Fatalf("datagram %q", got)
	}
	if time.Since(start) < 100*time.Millisecond { // 3 failed checks, 50 ms apart, come first
		t.Fatal("pinged while the check failed")
	}
}

func TestWatchdogOffOrForAnotherProcess(t *testing.T) {
	for _, pid := range []int{os.Getpid() + 1, 0} {
		if pid == 0 {
			t.Setenv("WATCHDOG_USEC", "")
		} else {
			watchdogEnv(t, time.Second, pid)
		}
		if d, err := WatchdogInterval(); d != 0 || err != nil {
			t.Fatalf("pid %d: interval %v %v", pid, d, err)
		}
		if err := Watchdog(context.Background(), nil); err != nil { // returns at once
			t.Fatal(err)
		}
	}
	t.Setenv("WATCHDOG_USEC", "soon")
	if err := Watchdog(context.Background(), nil); err == nil {
		t.Fatal("a malformed WATCHDOG_USEC accepted")
	}
}

// Serve pings from READY=1 until the drain begins.
func TestServePingsTheWatchdogWhileItServes(t *testing.T) {
	n := notifySocket(t)
	watchdogEnv(t, 100*time.Millisecond, os.Getpid())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, &http.Server{}, []net.Listener{ln}, Logger(nil)) }()
	if got := n.next(t); got != "READY=1\nSTATUS=serving" {
		t.Fatalf("first datagram %q", got)
	}
	for i := 0; i < 2; i++ {
		if got := n.next(t); got != "WATCHDOG=1" {
			t.Fatalf("datagram %q", got)
		}
	}
	cancel()
	for {
		got := n.next(t)
		if got == "STOPPING=1\nSTATUS=draining" {
			break
		}
		if got != "WATCHDOG=1" {
			t.Fatalf("datagram %q", got)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
