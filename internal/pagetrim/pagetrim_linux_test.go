package pagetrim

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapFile maps a new temporary file of size bytes, filled with fill,
// with prot and MAP_PRIVATE, and unmaps it when the test ends.
func mapFile(t *testing.T, size int, fill byte, prot int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(path, bytes.Repeat([]byte{fill}, size), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mem, err := unix.Mmap(int(f.Fd()), 0, size, prot, unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Munmap(mem) })
	return mem
}

// touch reads every page of mem so that all of it is resident.
func touch(mem []byte) (sum int) {
	for i := 0; i < len(mem); i += os.Getpagesize() {
		sum += int(mem[i])
	}
	return sum
}

// resident is how many bytes of the mapping that starts at mem[0] are in
// this process's page tables, from /proc/self/smaps.
func resident(t *testing.T, mem []byte) int64 {
	t.Helper()
	data, err := os.ReadFile(smapsPath)
	if err != nil {
		t.Fatal(err)
	}
	maps, err := parseSmaps(data)
	if err != nil {
		t.Fatal(err)
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(mem)))
	for _, m := range maps {
		if m.start == start {
			return m.rss
		}
	}
	t.Fatalf("no mapping at %#x in %s", start, smapsPath)
	return 0
}

const testSize = 64 * 4096

func TestSelfDropsReadOnlyFilePages(t *testing.T) {
	mem := mapFile(t, testSize, 7, unix.PROT_READ)
	touch(mem)
	if got := resident(t, mem); got != testSize {
		t.Fatalf("after touching every page: %d bytes resident, want %d", got, testSize)
	}
	r, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	if r.Mappings == 0 || r.Dropped < testSize {
		t.Errorf("Self() = %+v: want at least this mapping's %d bytes dropped", r, testSize)
	}
	if got := resident(t, mem); got != 0 {
		t.Errorf("after Self: %d bytes resident, want 0", got)
	}
	if sum := touch(mem); sum != 7*testSize/os.Getpagesize() {
		t.Errorf("the pages read back wrong after Self: sum %d", sum)
	}
}

func TestSelfKeepsPrivateCopies(t *testing.T) {
	// Written through a private mapping, then made read-only: the
	// mapping holds the only copy of the written bytes.
	mem := mapFile(t, testSize, 7, unix.PROT_READ|unix.PROT_WRITE)
	for i := 0; i < len(mem); i += os.Getpagesize() {
		mem[i] = 9
	}
	if err := unix.Mprotect(mem, unix.PROT_READ); err != nil {
		t.Fatal(err)
	}
	if _, err := Self(); err != nil {
		t.Fatal(err)
	}
	if got := resident(t, mem); got != testSize {
		t.Errorf("after Self: %d bytes resident, want all %d kept", got, testSize)
	}
	if sum := touch(mem); sum != 9*testSize/os.Getpagesize() {
		t.Errorf("Self lost the private copies: sum %d, want %d", sum, 9*testSize/os.Getpagesize())
	}
}

func TestSelfKeepsWritableMappings(t *testing.T) {
	mem := mapFile(t, testSize, 7, unix.PROT_READ|unix.PROT_WRITE)
	touch(mem) // read only: no private copies yet, but it could get some
	if _, err := Self(); err != nil {
		t.Fatal(err)
	}
	if got := resident(t, mem); got != testSize {
		t.Errorf("after Self: %d bytes of a writable mapping resident, want all %d kept", got, testSize)
	}
}

// BenchmarkSelf is the cost of one trim of this test process (reading
// /proc/self/smaps and the madvise calls), without the faults after it.
func BenchmarkSelf(b *testing.B) {
	for b.Loop() {
		if _, err := Self(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFileResidentCountsMappedFilePages: touching a file mapping adds its
// pages to FileResident, and Self takes them off again.
func TestFileResidentCountsMappedFilePages(t *testing.T) {
	mem := mapFile(t, testSize, 3, unix.PROT_READ)
	before, err := FileResident()
	if err != nil {
		t.Fatal(err)
	}
	touch(mem)
	touched, err := FileResident()
	if err != nil {
		t.Fatal(err)
	}
	if touched-before < testSize {
		t.Fatalf("FileResident went from %d to %d after touching %d bytes of a file", before, touched, testSize)
	}
	if _, err := Self(); err != nil {
		t.Fatal(err)
	}
	trimmed, err := FileResident()
	if err != nil {
		t.Fatal(err)
	}
	if touched-trimmed < testSize {
		t.Fatalf("FileResident went from %d to %d after Self dropped %d bytes", touched, trimmed, testSize)
	}
}
