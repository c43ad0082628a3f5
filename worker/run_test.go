package worker

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

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

// A server that fails on its own is still shut down, and the hooks still
// run (the database is closed).
func TestRunServeFailureStillRunsHooks(t *testing.T) {
	boom := errors.New("address in use")
	shutdowns, hooks := 0, 0
	err := Run(context.Background(),
		func(func()) error { return boom },
		func(context.Context) error { shutdowns++; return nil },
		append(quiet, OnShutdown(func(context.Context) error { hooks++; return nil }))...)
	if !errors.Is(err, boom) || shutdowns != 1 || hooks != 1 {
		t.Fatalf("err=%v shutdowns=%d hooks=%d", err, shutdowns, hooks)
	}
}

// A shutdown that does not stop the server is bounded by DrainTimeout.
func TestRunServeThatIgnoresShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	forever := make(chan struct{})
	defer close(forever)
	start := time.Now()
	err := Run(ctx, func(func()) error { <-forever; return nil }, func(context.Context) error { return nil },
		append(quiet, DrainTimeout(100*time.Millisecond))...)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "serve did not return") {
		t.Fatalf("got %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %v", took)
	}
}

// SignalContext ends at SIGTERM; a second SIGTERM then kills the process
// (run in a helper process, since it kills).
func TestSignalContextSecondSignalKills(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "WORKER_HELPER=signals", "GORACE=atexit_sleep_ms=0")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Fatalf("want death by the second SIGTERM, got %v: %s", err, out)
	}
	if strings.TrimSpace(string(out)) != "first SIGTERM: context canceled" {
		t.Fatalf("output %q", out)
	}
}

func init() {
	helpers["signals"] = func() error {
		ctx, stop := SignalContext(context.Background())
		defer stop()
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
		<-ctx.Done()
		println("first SIGTERM:", ctx.Err().Error())
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) { // until the default action is back
			_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
			time.Sleep(10 * time.Millisecond)
		}
		return errors.New("survived a second SIGTERM")
	}
}
