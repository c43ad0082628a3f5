package worker

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

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
