package pagetrim

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// smapsPath is where the kernel lists the process's mappings.
const smapsPath = "/proc/self/smaps"

// Self drops the resident pages of the calling process's read-only file
// mappings from its page tables (see the package doc for which ones). It
// returns what it dropped; an error means /proc/self/smaps could not be
// read or a madvise failed, and the mappings before it were still trimmed.
func Self() (Result, error) {
	data, err := os.ReadFile(smapsPath)
	if err != nil {
		return Result{}, fmt.Errorf("trim file pages: %w", err)
	}
	maps, err := parseSmaps(data)
	if err != nil {
		return Result{}, fmt.Errorf("trim file pages: %s: %w", smapsPath, err)
	}
	var r Result
	for _, m := range maps {
		if m.rss == 0 {
			continue
		}
		if !m.droppable() {
			r.Skipped++
			continue
		}
		if err := dontNeed(m.start, m.end); err != nil {
			return r, fmt.Errorf("trim file pages of %s: %w", m.path, err)
		}
		r.Mappings++
		r.Dropped += m.rss
	}
	return r, nil
}

// dontNeed is madvise(MADV_DONTNEED) on [start, end), which is not memory
// the Go runtime manages, so it goes through the raw system call.
func dontNeed(start, end uintptr) error {
	_, _, errno := unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_DONTNEED)
	if errno != 0 {
		return fmt.Errorf("madvise %#x-%#x: %w", start, end, errno)
	}
	return nil
}

// statusPath is where the kernel sums up the process's memory.
const statusPath = "/proc/self/status"

// FileResident is how many bytes of the calling process's RSS are pages of
// files (RssFile in /proc/self/status): what [Self] can give back, and
// what grows again as the process runs code it had not run since.
func FileResident() (int64, error) {
	data, err := os.ReadFile(statusPath)
	if err != nil {
		return 0, fmt.Errorf("read file-backed RSS: %w", err)
	}
	kb, ok := statusField(data, "RssFile:")
	if !ok {
		return 0, fmt.Errorf("read file-backed RSS: no RssFile in %s", statusPath)
	}
	return kb << 10, nil
}
