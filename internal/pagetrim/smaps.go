package pagetrim

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// mapping is one entry of /proc/PID/smaps, with what trimming needs.
type mapping struct {
	start, end uintptr
	perms      string // e.g. "r-xp"
	path       string // "" for anonymous memory, "[stack]" and the like for special ones
	rss        int64  // resident bytes
	anonymous  int64  // bytes of private copies (copy-on-write) or anonymous pages
	locked     bool   // mlock'ed (VmFlags "lo"), so madvise would fail
}

// droppable reports whether dropping m's pages can lose nothing: a
// file-backed mapping without write permission, not locked, with no
// private copies of pages.
func (m mapping) droppable() bool {
	return strings.HasPrefix(m.path, "/") && len(m.perms) == 4 &&
		m.perms[0] == 'r' && m.perms[1] == '-' &&
		m.anonymous == 0 && !m.locked
}

// parseSmaps reads the mappings listed in data, in the format of
// proc_pid_smaps(5): a header line per mapping, then "Key: value" lines.
func parseSmaps(data []byte) ([]mapping, error) {
	var maps []mapping
	for n, line := range bytes.Split(data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		f := strings.Fields(string(line))
		if !strings.HasSuffix(f[0], ":") { // a header: start-end perms offset dev inode [path]
			m, err := parseHeader(f)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n+1, err)
			}
			maps = append(maps, m)
			continue
		}
		if len(maps) == 0 {
			return nil, fmt.Errorf("line %d: %q before any mapping", n+1, f[0])
		}
		if err := parseField(&maps[len(maps)-1], f); err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
	}
	return maps, nil
}

// parseHeader parses a mapping's first line, split into fields.
func parseHeader(f []string) (mapping, error) {
	if len(f) < 5 {
		return mapping{}, fmt.Errorf("mapping header %q: want at least 5 fields", strings.Join(f, " "))
	}
	lo, hi, ok := strings.Cut(f[0], "-")
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	if !ok || err1 != nil || err2 != nil || end < start {
		return mapping{}, fmt.Errorf("mapping range %q: want START-END in hex", f[0])
	}
	m := mapping{start: uintptr(start), end: uintptr(end), perms: f[1]}
	if len(f) > 5 {
		m.path = strings.Join(f[5:], " ")
	}
	return m, nil
}

// parseField records the fields trimming needs: Rss, Anonymous, VmFlags.
func parseField(m *mapping, f []string) error {
	switch f[0] {
	case "Rss:", "Anonymous:":
		if len(f) != 3 || f[2] != "kB" {
			return fmt.Errorf("%s %q: want a size in kB", f[0], strings.Join(f[1:], " "))
		}
		kb, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return fmt.Errorf("%s %q: %w", f[0], f[1], err)
		}
		if f[0] == "Rss:" {
			m.rss = kb << 10
		} else {
			m.anonymous = kb << 10
		}
	case "VmFlags:":
		for _, flag := range f[1:] {
			m.locked = m.locked || flag == "lo"
		}
	}
	return nil
}

// statusField reads a "Name:   123 kB" line of /proc/PID/status, in kB.
func statusField(data []byte, name string) (int64, bool) {
	for _, line := range strings.Split(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, false
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		return n, err == nil
	}
	return 0, false
}
