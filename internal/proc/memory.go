package proc

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// GroupRSS returns the resident memory, in bytes, of each process group
// in pgids: the sum over every process whose process group is one of
// them, read in one pass over /proc. A worker leads its own group, so its
// pid is its group's id and its children (forked workers of a pre-fork
// server, helpers) are counted with it. Memory shared between them (a
// pre-fork server's copy-on-write pages) is counted once per process, as
// RSS always is: the sum errs high, never low. A group with no process
// left is absent from the result.
func GroupRSS(pgids []int) map[int]int64 {
	want := make(map[int]bool, len(pgids))
	for _, g := range pgids {
		want[g] = true
	}
	out := map[int]int64{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	page := int64(unix.Getpagesize())
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // it exited meanwhile
		}
		pgrp, pages, ok := groupAndRSS(b)
		if ok && want[pgrp] {
			out[pgrp] += pages * page
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
