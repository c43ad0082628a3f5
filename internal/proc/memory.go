package proc

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// GroupRSS returns the resident memory, in bytes, of each process group
// in pgids: the sum over every process whose process group is one of
// them, read in one pass over /proc. A worker leads its own group, so its
// pid is its group's id and its children (forked workers of a pre-fork
// server, helpers) are counted with it. Memory shared between them (a
// pre-fork server's copy-on-write pages) is counted once per process, as
// RSS always is: the sum errs high, never low. A group with no process
// left is absent from the result. It reads every process's stat: for
// periodic readings, GroupMemory reads only the groups' members.
func GroupRSS(pgids []int) map[int]int64 {
	out := map[int]int64{}
	for pgid, members := range groupMembers(pgids) {
		for _, m := range members {
			out[pgid] += m.rss
		}
	}
	return out
}

// member is one process of a group, as its stat read.
type member struct {
	pid int
	rss int64
}

// groupMembers walks /proc once and returns the processes of each group
// in pgids.
func groupMembers(pgids []int) map[int][]member {
	want := make(map[int]bool, len(pgids))
	for _, g := range pgids {
		want[g] = true
	}
	out := map[int][]member{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pgrp, rss, ok := readGroupAndRSS(pid); ok && want[pgrp] {
			out[pgrp] = append(out[pgrp], member{pid: pid, rss: rss})
		}
	}
	return out
}

// readGroupAndRSS reads pid's process group and resident bytes.
func readGroupAndRSS(pid int) (pgrp int, rss int64, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false // it exited meanwhile
	}
	pgrp, pages, ok := groupAndRSS(b)
	return pgrp, pages * int64(unix.Getpagesize()), ok
}

// DefaultRescan is how often GroupMemory walks all of /proc for new
// members of its groups.
const DefaultRescan = 10 * time.Second

// GroupMemory reads the resident memory of process groups, like
// GroupRSS, but walks all of /proc (whose cost grows with every process
// on the host) only every Rescan, or when a group it has not seen yet is
// asked for; in between it reads only the processes it found in each
// group. A child started since the last walk is counted from the next.
// Safe for concurrent use.
type GroupMemory struct {
	Rescan time.Duration // 0: DefaultRescan

	mu      sync.Mutex
	members map[int][]int // pgid → its processes at the last walk
	walked  time.Time
}

// Read returns the resident bytes of each group in pgids that still has
// a process.
func (g *GroupMemory) Read(pgids []int) map[int]int64 {
	if len(pgids) == 0 {
		return map[int]int64{}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	rescan := g.Rescan
	if rescan <= 0 {
		rescan = DefaultRescan
	}
	if g.members == nil || time.Since(g.walked) >= rescan || !g.knowsAll(pgids) {
		return g.walk(pgids)
	}
	out := map[int]int64{}
	for _, pgid := range pgids {
		for _, pid := range g.members[pgid] {
			if pgrp, rss, ok := readGroupAndRSS(pid); ok && pgrp == pgid {
				out[pgid] += rss
			}
		}
	}
	return out
}

func (g *GroupMemory) knowsAll(pgids []int) bool {
	for _, p := range pgids {
		if _, ok := g.members[p]; !ok {
			return false
		}
	}
	return true
}

// walk reads every process, remembers each group's members and returns
// the groups' memory.
func (g *GroupMemory) walk(pgids []int) map[int]int64 {
	found := groupMembers(pgids)
	g.members, g.walked = map[int][]int{}, time.Now()
	out := map[int]int64{}
	for _, pgid := range pgids {
		g.members[pgid] = []int{}
		for _, m := range found[pgid] {
			g.members[pgid] = append(g.members[pgid], m.pid)
			out[pgid] += m.rss
		}
	}
	return out
}

// groupAndRSS reads the process group (field 5) and RSS pages (field 24)
// of a /proc/PID/stat line.
func groupAndRSS(stat []byte) (pgrp int, pages int64, ok bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, false
	}
	// After ')': state(3) ppid(4) pgrp(5) ... rss(24): indexes 2 and 21.
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 22 {
		return 0, 0, false
	}
	g, err1 := strconv.Atoi(f[2])
	p, err2 := strconv.ParseInt(f[21], 10, 64)
	return g, p, err1 == nil && err2 == nil
}

// Stopped reports whether pid is stopped (state T, by SIGSTOP or a job
// control signal, or t, by a debugger), from /proc.
func Stopped(pid int) (bool, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false, errors.New("malformed /proc stat")
	}
	return b[i+2] == 'T' || b[i+2] == 't', nil
}
