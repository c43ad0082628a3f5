package master

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// pidfile is the file --pidfile names, written by this master.
type pidfile struct {
	path string
	pid  int
}

// writePidfile writes this process's pid to path atomically: a private
// temporary file in the same directory, renamed over path. Only a missing
// path or a regular file is replaced (the configuration refuses anything
// else before the master starts; this checks again); a temporary file is
// never left behind. An empty path writes nothing.
func writePidfile(path string) (*pidfile, error) {
	if path == "" {
		return nil, nil
	}
	if st, err := os.Lstat(path); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("--pidfile: %s is not a regular file: baton only replaces a pidfile that is a regular file", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("--pidfile: %w", err)
	}
	pid := os.Getpid()
	_, werr := tmp.WriteString(strconv.Itoa(pid) + "\n")
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), 0o644)); err != nil {
		_ = os.Remove(tmp.Name())
		return nil, fmt.Errorf("--pidfile: write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return nil, fmt.Errorf("--pidfile: %w", err)
	}
	return &pidfile{path: path, pid: pid}, nil
}

// remove deletes the pidfile if it still holds this master's pid (another
// master may have taken the path over since).
func (p *pidfile) remove() error {
	if p == nil {
		return nil
	}
	b, err := os.ReadFile(p.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read pidfile: %w", err)
	}
	if string(bytes.TrimSpace(b)) != strconv.Itoa(p.pid) {
		return nil
	}
	return os.Remove(p.path)
}
