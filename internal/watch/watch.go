package watch

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// MaxEntries bounds how many entries of a directory tree are fingerprinted.
const MaxEntries = 20000

// Options of a watcher.
type Options struct {
	Paths    []string
	Interval time.Duration // how often to look; default 200ms
	Quiet    time.Duration // how long changes must stop before firing; default 500ms
}

// Watcher reports changes under its paths.
type Watcher struct {
	opts Options
	last []uint64
}

// New takes the first fingerprint of every path now, so that a change
// made right after New returns is seen by Run.
func New(opts Options) *Watcher {
	if opts.Interval <= 0 {
		opts.Interval = 200 * time.Millisecond
	}
	if opts.Quiet <= 0 {
		opts.Quiet = 500 * time.Millisecond
	}
	w := &Watcher{opts: opts, last: make([]uint64, len(opts.Paths))}
	for i, p := range opts.Paths {
		w.last[i] = Fingerprint(p)
	}
	return w
}

// Run calls changed once per burst of changes until ctx ends. changed
// receives the paths that changed.
func (w *Watcher) Run(ctx context.Context, changed func(paths []string)) {
	pending := map[string]bool{}
	var lastChange time.Time
	tick := time.NewTicker(w.opts.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			for i, p := range w.opts.Paths {
				if fp := Fingerprint(p); fp != w.last[i] {
					w.last[i], pending[p], lastChange = fp, true, now
				}
			}
			if len(pending) > 0 && now.Sub(lastChange) >= w.opts.Quiet {
				paths := make([]string, 0, len(pending))
				for p := range pending {
					paths = append(paths, p)
				}
				clear(pending)
				changed(paths)
			}
		}
	}
}

// Fingerprint hashes what matters of path: for a symlink its target and
// the resolved tree, for a file its size, mode and mtime, for a directory
// all of that for every entry. A missing path has its own fingerprint.
func Fingerprint(path string) uint64 {
	h := fnv.New64a()
	if target, err := os.Readlink(path); err == nil {
		fmt.Fprintf(h, "link:%s;", target)
	}
	root, err := filepath.EvalSymlinks(path)
	if err != nil {
		fmt.Fprintf(h, "missing;")
		return h.Sum64()
	}
	n := 0
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		n++
		if n > MaxEntries {
			return filepath.SkipAll
		}
		if info, err := d.Info(); err == nil {
			fmt.Fprintf(h, "%s:%d:%o:%d;", p, info.Size(), info.Mode(), info.ModTime().UnixNano())
		}
		return nil
	})
	return h.Sum64()
}
