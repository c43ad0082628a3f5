package proc

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestGuardMainKillsListedGroupsAtEOF(t *testing.T) {
	start := func() *exec.Cmd {
		cmd := exec.Command("sleep", "1000")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	kept, killed := start(), start()
	defer kept.Process.Kill()
	GuardMain(strings.NewReader(fmt.Sprintf("+%d\n+%d\n-%d\ngarbage\n+1\n", kept.Process.Pid, killed.Process.Pid, kept.Process.Pid)))
	done := make(chan error, 1)
	go func() { done <- killed.Wait() }()
	select {
	case err := <-done:
		if ws, ok := killed.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("listed group ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("listed group survived the guardian")
	}
	if err := kept.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("forgotten group was killed: %v", err)
	}
}

func TestSpawnerSetsGroupAndParentDeathSignal(t *testing.T) {
	sp := NewSpawner()
	cmd := exec.Command("sleep", "1000")
	if err := sp.Start(cmd); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if pgid, _ := syscall.Getpgid(cmd.Process.Pid); pgid != cmd.Process.Pid {
		t.Fatalf("pgid %d, want its own group %d", pgid, cmd.Process.Pid)
	}
	if cmd.SysProcAttr.Pdeathsig != syscall.SIGKILL {
		t.Fatal("no parent-death signal")
	}
}
