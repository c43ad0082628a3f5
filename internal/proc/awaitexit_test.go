package proc

import (
	"os/exec"
	"testing"
	"time"
)

func TestAwaitExitReturnsWhenTheProcessExits(t *testing.T) {
	cmd := exec.Command("sleep", "0.2")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	awaitExit(cmd.Process.Pid)
	if time.Since(start) < 100*time.Millisecond {
		t.Fatalf("returned after %s, before the process could have exited", time.Since(start))
	}
	if err := cmd.Wait(); err != nil { // still ours to reap
		t.Fatal(err)
	}
}
