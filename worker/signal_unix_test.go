//go:build unix

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
