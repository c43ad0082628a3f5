package proc

import (
	"os/exec"
	"syscall"
	"testing"
	"time"
)

func TestAwaitExitReturnsWhenTheProcessExits(t *testing.T) {
	cmd := exec.Command("sleep", "0.2")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if !AwaitExit(cmd.Process.Pid, nil) {
		t.Skip("no pollable pidfd on this kernel (Linux before 5.10)")
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Fatalf("returned after %s, before the process could have exited", time.Since(start))
	}
	if err := cmd.Wait(); err != nil { // still ours to reap
		t.Fatal(err)
	}
}

func TestAwaitExitEndsWhenDoneCloses(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	done := make(chan struct{})
	close(done)
	AwaitExit(cmd.Process.Pid, done) // returns although the process runs on
	if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the process should still run: %v", err)
	}
}
