package control

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// errNameTaken is returned when another master holds the name.
var errNameTaken = errors.New("another master is running with this name (choose another --name)")

// fileID identifies a file by device and inode.
type fileID struct{ dev, ino uint64 }

// lstatID returns path's identity without following a symlink.
func lstatID(path string) (fileID, bool) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino}, true
}

// fstatID returns the identity of the open file f.
func fstatID(f *os.File) (fileID, bool) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino}, true
}

// nameLock is an exclusive flock on PATH.lock beside a control socket,
// held for the master's life: the kernel drops it when the master dies,
// however it dies, so a stale lock cannot exist.
type nameLock struct {
	path string
	f    *os.File
	id   fileID
}

// LockPath is the lock file that guards the control socket at path.
func LockPath(path string) string { return path + ".lock" }

// lockName takes the lock for the socket at path without waiting; when
// another master holds it, the error wraps errNameTaken.
func lockName(path string) (*nameLock, error) {
	lp := LockPath(path)
	for range 10 {
		l, err := tryLock(lp)
		if err != nil || l != nil {
			return l, err
		}
	}
	return nil, fmt.Errorf("lock %s: it keeps being replaced", lp)
}

// tryLock opens and locks lp once. It returns nil, nil when the file it
// locked was removed meanwhile (by a master releasing it): lock again.
func tryLock(lp string) (*nameLock, error) {
	f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", lp, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, errNameTaken
		}
		return nil, fmt.Errorf("lock %s: %w", lp, err)
	}
	held, ok1 := fstatID(f)
	there, ok2 := lstatID(lp)
	if !ok1 || !ok2 || held != there {
		f.Close()
		return nil, nil
	}
	return &nameLock{path: lp, f: f, id: held}, nil
}

// release removes the lock file (while still holding it, so that no other
// master can lock the file being removed) and then unlocks it.
func (l *nameLock) release() {
	if id, ok := lstatID(l.path); ok && id == l.id {
		_ = os.Remove(l.path)
	}
	_ = l.f.Close()
}
