package proc

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Usage is what /proc says a process uses now.
type Usage struct {
	RSS int64         // resident memory, bytes
	CPU time.Duration // user + system time since it started
}

// clockTick is the kernel's USER_HZ: /proc's unit of CPU time (100 on
// every Linux architecture baton runs on).
const clockTick = 100

// ReadUsage reads pid's resident memory and CPU time from /proc.
func ReadUsage(pid int) (Usage, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Usage{}, fmt.Errorf("read usage of pid %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces and parentheses: the
	// fields after it start after its last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return Usage{}, fmt.Errorf("read usage of pid %d: malformed /proc stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// After ')': state(3) ... utime(14) stime(15) ... rss(24), so index n-3.
	if len(f) < 22 {
		return Usage{}, fmt.Errorf("read usage of pid %d: short /proc stat", pid)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	pages, _ := strconv.ParseInt(f[21], 10, 64)
	return Usage{
		RSS: pages * int64(unix.Getpagesize()),
		CPU: time.Duration(utime+stime) * time.Second / clockTick,
	}, nil
}
