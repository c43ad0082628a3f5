package watch

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSymlinkFlipFiresOnceAfterQuiet(t *testing.T) {
	dir := t.TempDir()
	for _, r := range []string{"r1", "r2"} {
		if err := os.MkdirAll(filepath.Join(dir, r), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, r, "VERSION"), []byte(r), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "current")
	if err := os.Symlink("r1", link); err != nil {
		t.Fatal(err)
	}
	fired := make(chan []string, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := New(Options{Paths: []string{link}, Interval: 10 * time.Millisecond, Quiet: 100 * time.Millisecond})
	go w.Run(ctx, func(p []string) { fired <- p })
	// Flip the link the way deploy tools do: a new link renamed over the old.
	tmp := filepath.Join(dir, "current.tmp")
	if err := os.Symlink("r2", tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, link); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-fired:
		if len(p) != 1 || p[0] != link {
			t.Fatalf("fired for %v", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no change reported for a symlink flip")
	}
	select {
	case p := <-fired:
		t.Fatalf("fired twice for one change: %v", p)
	case <-time.After(300 * time.Millisecond):
	}
}

func TestFingerprintSeesFileEdits(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "app.py")
	if err := os.WriteFile(f, []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := Fingerprint(dir)
	if err := os.WriteFile(f, []byte("bb"), 0o644); err != nil {
		t.Fatal(err)
	}
	if Fingerprint(dir) == before {
		t.Fatal("an edited file did not change the fingerprint")
	}
	if Fingerprint(filepath.Join(dir, "missing")) == before {
		t.Fatal("missing path fingerprint collides")
	}
}
