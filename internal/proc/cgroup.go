package proc

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroupRemoveLimit bounds how long removing a cgroup waits for its
// killed processes to be gone.
const cgroupRemoveLimit = 5 * time.Second

// hierarchy is one mounted cgroup hierarchy and this process's place in it.
type hierarchy struct {
	mount string // where it is mounted: /sys/fs/cgroup, /sys/fs/cgroup/unified, /sys/fs/cgroup/memory
	own   string // this process's cgroup, as a path below mount
}

// dir is this process's own cgroup directory.
func (h hierarchy) dir() string { return filepath.Join(h.mount, h.own) }

// findHierarchies reads /proc/self/mountinfo and /proc/self/cgroup for the
// cgroup v2 hierarchy and the v1 memory hierarchy (systemd's hybrid
// layout has both); either may be missing (zero mount).
func findHierarchies() (v2, mem hierarchy, err error) {
	own, err := ownCgroups()
	if err != nil {
		return v2, mem, err
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return v2, mem, fmt.Errorf("read mountinfo: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, tail := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(tail) < 3 {
			continue
		}
		root, mount := unescapeMount(fields[3]), unescapeMount(fields[4])
		switch {
		case tail[0] == "cgroup2" && v2.mount == "":
			v2 = hierarchy{mount: mount, own: below(own["0"], root)}
		case tail[0] == "cgroup" && mem.mount == "" && hasOption(tail[2], "memory"):
			mem = hierarchy{mount: mount, own: below(own["memory"], root)}
		}
	}
	return v2, mem, sc.Err()
}

// ownCgroups maps each v1 controller (and "0" for v2) to this process's
// cgroup path, from /proc/self/cgroup.
func ownCgroups() (map[string]string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("read /proc/self/cgroup: %w", err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			out["0"] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	return out, nil
}

// below makes a cgroup path relative to a mount's root (a bind mount of
// a subtree, as in some containers).
func below(path, root string) string {
	if path == "" {
		return ""
	}
	if root != "/" {
		if rest, ok := strings.CutPrefix(path, root); ok {
			path = rest
		}
	}
	if path == "" {
		path = "/"
	}
	return path
}

func hasOption(opts, want string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// killCgroup writes "1" to a v2 cgroup's cgroup.kill: the kernel SIGKILLs
// every process in it and below, whatever process group or session they
// moved to.
func killCgroup(path string) error {
	if err := os.WriteFile(filepath.Join(path, "cgroup.kill"), []byte("1"), 0); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("kill cgroup %s: %w", path, err)
	}
	return nil
}

// removeCgroup removes a cgroup directory, retrying while killed
// processes are still leaving it (EBUSY), for at most limit.
func removeCgroup(path string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		err := syscall.Rmdir(path)
		if err == nil || errors.Is(err, syscall.ENOENT) {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
			return fmt.Errorf("remove cgroup %s: %w", path, err)
		}
		time.Sleep(wait)
	}
}

// cgroupPIDs lists the processes in a cgroup.
func cgroupPIDs(path string) []int {
	b, err := os.ReadFile(filepath.Join(path, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// readInt reads a file holding one integer (memory.current).
func readInt(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n, err == nil
}

// cpuUsage reads usage_usec from a v2 cgroup's cpu.stat (present without
// the cpu controller).
func cpuUsage(path string) (time.Duration, bool) {
	b, err := os.ReadFile(filepath.Join(path, "cpu.stat"))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return time.Duration(n) * time.Microsecond, err == nil
		}
	}
	return 0, false
}
