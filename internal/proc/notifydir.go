package proc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// maxUnixPath is the longest path a unix socket address holds on Linux.
const maxUnixPath = 107

// longestNotifyName is the longest name below a notify directory:
// "/n" + a pid + "/w" + a worker id.
const longestNotifyName = len("/n4194304/w") + 10

// NotifyDir creates this master's private directory for its workers'
// notify sockets and returns its path. It lives in runtimeDir, or, when
// paths there could not fit a unix socket address, in a per-user
// directory under the system's temporary directory; its name is short
// ("n" and the master's pid, sockets "w" and a worker id) so every notify
// path fits, whatever the master's name. Directories of masters that died
// without cleaning up (SIGKILL) are removed on the way.
//
// With shared (workers run as another user, --user), the directory cannot
// be in the runtime directory, which stays private: it is in
// TMPDIR/baton-UID-notify, and it and its parent are mode 0711, so the
// workers can reach their sockets by name (each socket is its worker
// user's, mode 0600) but no one can list them.
func NotifyDir(runtimeDir string, shared bool) (string, error) {
	base, mode := runtimeDir, os.FileMode(0o700)
	if shared {
		base, mode = filepath.Join(os.TempDir(), "baton-"+strconv.Itoa(os.Getuid())+"-notify"), 0o711
		if err := ownedDir(base, mode); err != nil {
			return "", err
		}
	}
	if len(base)+longestNotifyName > maxUnixPath {
		base = filepath.Join(os.TempDir(), "baton-"+strconv.Itoa(os.Getuid()))
		if err := privateDir(base); err != nil {
			return "", err
		}
	}
	SweepNotifyDirs(base)
	dir := filepath.Join(base, "n"+strconv.Itoa(os.Getpid()))
	_ = os.RemoveAll(dir) // a dead master's, with our pid
	if err := os.Mkdir(dir, mode); err != nil {
		return "", fmt.Errorf("create notify directory: %w", err)
	}
	if err := os.Chmod(dir, mode); err != nil { // whatever the umask
		return "", fmt.Errorf("create notify directory: %w", err)
	}
	return dir, nil
}

// SweepNotifyDirs removes the notify directories in base whose master no
// longer runs, and returns how many it removed.
func SweepNotifyDirs(base string) int {
	entries, err := os.ReadDir(base)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		pid, ok := notifyDirPID(e)
		if !ok || pid == os.Getpid() || processExists(pid) {
			continue
		}
		if os.RemoveAll(filepath.Join(base, e.Name())) == nil {
			n++
		}
	}
	return n
}

func notifyDirPID(e os.DirEntry) (int, bool) {
	digits, ok := strings.CutPrefix(e.Name(), "n")
	if !ok || !e.IsDir() {
		return 0, false
	}
	pid, err := strconv.Atoi(digits)
	return pid, err == nil && pid > 0
}

// processExists reports whether pid names a process (of any user).
func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// privateDir creates dir with mode 0700 if needed and checks that it is a
// directory (not a symlink) owned by this user and closed to others: in a
// shared temporary directory, someone else may have made it first.
func privateDir(dir string) error { return ownedDir(dir, 0o700) }

// ownedDir creates dir with mode if needed and checks that it is a
// directory (not a symlink) owned by this user with exactly that mode.
func ownedDir(dir string, mode os.FileMode) error {
	if err := os.MkdirAll(dir, mode); err != nil {
		return fmt.Errorf("create notify directory: %w", err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("check notify directory: %w", err)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if st.IsDir() && ok && int(sys.Uid) == os.Getuid() && st.Mode().Perm() != mode && st.Mode().Perm()&^mode == 0 {
		_ = os.Chmod(dir, mode) // the umask took bits away
		st, err = os.Lstat(dir)
		if err != nil {
			return fmt.Errorf("check notify directory: %w", err)
		}
	}
	if !st.IsDir() || !ok || int(sys.Uid) != os.Getuid() || st.Mode().Perm() != mode {
		return fmt.Errorf("notify directory %s is not a directory of uid %d with mode %04o: remove it", dir, os.Getuid(), uint32(mode))
	}
	return nil
}
