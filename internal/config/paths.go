package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// MaxUnixPath is the longest path a unix socket address can hold on Linux
// (sun_path is 108 bytes, one of them the terminating NUL).
const MaxUnixPath = 107

// checkUnixPathLen refuses a socket path the kernel cannot bind.
func checkUnixPathLen(path string) error {
	if len(path) > MaxUnixPath {
		return fmt.Errorf("unix socket path is %d bytes, the limit is %d", len(path), MaxUnixPath)
	}
	return nil
}

// shownPath is path as a problem shows it: as it is, or quoted when it
// holds a character that cannot be printed (a newline would break the
// problem's one line).
func shownPath(path string) string {
	for _, r := range path {
		if !strconv.IsPrint(r) {
			return strconv.Quote(path)
		}
	}
	return path
}

// checkParent says whether the directory that would hold path exists.
func checkParent(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("directory %s does not exist", shownPath(dir))
	}
	if err != nil {
		return fmt.Errorf("directory %s: %w", shownPath(dir), unwrapPath(err))
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", shownPath(dir))
	}
	return nil
}

// checkSocketPath refuses a socket path that cannot be bound, or where
// something other than a (stale) socket would have to be removed first.
func checkSocketPath(path string) error {
	if err := checkUnixPathLen(path); err != nil {
		return err
	}
	if err := checkParent(path); err != nil {
		return err
	}
	st, err := os.Lstat(path)
	if err == nil && st.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%s exists and is not a socket: baton only replaces a stale socket", shownPath(path))
	}
	return nil
}

// checkPidfile refuses a pidfile path in a missing directory, or where
// something other than a regular file is.
func checkPidfile(path string) error {
	if err := checkParent(path); err != nil {
		return err
	}
	st, err := os.Lstat(path)
	if err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("%s is %s, not a regular file: baton only replaces a pidfile that is a regular file", shownPath(path), kindOf(st.Mode()))
	}
	return nil
}

// kindOf names what a file is, for messages: "a directory", "a socket".
func kindOf(m fs.FileMode) string {
	switch m.Type() {
	case fs.ModeDir:
		return "a directory"
	case fs.ModeSymlink:
		return "a symbolic link"
	case fs.ModeSocket:
		return "a socket"
	case fs.ModeNamedPipe:
		return "a named pipe"
	case fs.ModeDevice, fs.ModeDevice | fs.ModeCharDevice:
		return "a device"
	}
	return "a special file"
}

func (v *validator) pidfile(p string) string {
	if p == "" {
		return ""
	}
	p = v.absPath(p)
	if err := checkPidfile(p); err != nil {
		v.fail("pidfile", "%v", err)
	}
	return p
}

func (v *validator) control(p string) string {
	if p == "" {
		return ""
	}
	p = v.absPath(p)
	if err := checkSocketPath(p); err != nil {
		v.fail("control", "%v", err)
	}
	return p
}
