package proc

import (
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// A group's memory is the sum over its processes: a child in the group
// adds its RSS to the leader's.
func TestGroupRSSSumsTheGroup(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 60 & sleep 60 & wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pg := cmd.Process.Pid
	t.Cleanup(func() { _ = syscall.Kill(-pg, syscall.SIGKILL); _ = cmd.Wait() })
	leader, err := ReadUsage(pg)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := GroupRSS([]int{pg, 1 << 30})
		if got[pg] > leader.RSS {
			if _, ok := got[1<<30]; ok {
				t.Fatalf("a group with no process reported: %v", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %d RSS %d, not above its leader's %d: children not counted", pg, got[pg], leader.RSS)
		}
		time.Sleep(10 * time.Millisecond)
	}
	own := GroupRSS([]int{syscall.Getpgrp()})
	if own[syscall.Getpgrp()] < 1<<20 {
		t.Fatalf("this test's own group: %v", own)
	}
}

func TestGroupAndRSSParsesOddNames(t *testing.T) {
	g, p, ok := groupAndRSS([]byte("12 (a) b (c)) S 1 77 77 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 1 1000 250 18446744073709551615"))
	if !ok || g != 77 || p != 250 {
		t.Fatalf("%d %d %v", g, p, ok)
	}
	if _, _, ok := groupAndRSS([]byte("12 (x")); ok {
		t.Fatal("malformed line parsed")
	}
}

// GroupMemory finds a group's members in one walk, then reads only them;
// a group whose processes are gone is left out.
func TestGroupMemoryReadsTheMembersItFound(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 60 & sleep 60 & wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pg := cmd.Process.Pid
	defer func() { _ = syscall.Kill(-pg, syscall.SIGKILL); _ = cmd.Wait() }()
	g := &GroupMemory{Rescan: time.Hour}
	waitGroup := func(what string, cond func(int) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			g.walked = time.Time{} // walk again: the children may not have started at the first
			if got := g.Read([]int{pg}); cond(len(g.members[pg])) && got[pg] > 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: members %v", what, g.members)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitGroup("three members", func(n int) bool { return n == 3 })
	walked := g.walked
	if got := g.Read([]int{pg}); got[pg] <= 0 || g.walked != walked {
		t.Fatalf("second read %v, walked again: %v", got, g.walked != walked)
	}
	_ = syscall.Kill(-pg, syscall.SIGKILL)
	_ = cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := g.Read([]int{pg})[pg]; !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a group with no process left is still read")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Without a cgroup for a worker, --max-memory reads its process group.
func TestMemoryReaderFallsBackToTheProcessGroup(t *testing.T) {
	read, kind := (*Containment)(nil).MemoryReader(&GroupMemory{})
	if kind != "RSS of its process group" {
		t.Fatalf("kind %q", kind)
	}
	own := syscall.Getpgrp()
	if got := read([]int{own}); got[own] < 1<<20 {
		t.Fatalf("this test's group: %v", got)
	}
	if got := read(nil); len(got) != 0 {
		t.Fatalf("no pids: %v", got)
	}
}
