package master

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestPidfileIsAtomicAndRemovedOnlyWhileOurs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "baton.pid")
	if err := os.WriteFile(path, []byte("1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := writePidfile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Fatalf("pidfile holds %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
	// Another master took the path over: ours is not removed.
	if err := os.WriteFile(path, []byte("99999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal("removed another master's pidfile")
	}
	p, err = writePidfile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("our pidfile was not removed")
	}
}

func TestPidfileNeverReplacesADirectory(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "adir")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := writePidfile(target); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("err %v", err)
	}
	if st, err := os.Stat(target); err != nil || !st.IsDir() {
		t.Fatal("the directory was touched")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("files left: %v", entries)
	}
	if p, err := writePidfile(""); p != nil || err != nil || p.remove() != nil {
		t.Fatal("an empty path must write nothing")
	}
}
