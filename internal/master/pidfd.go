package master

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// pidfdOpen opens a pidfd for pid; ESRCH (already gone) is reported as
// a readable descriptor would be: by pollReadable returning at once.
func pidfdOpen(pid int) (int, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return -1, nil
	}
	return fd, err
}

// pollReadable waits up to d for fd to turn readable (-1: it is).
func pollReadable(fd int, d time.Duration) (bool, error) {
	if fd < 0 {
		return true, nil
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, int(d.Milliseconds()))
	if errors.Is(err, unix.EINTR) {
		return false, nil
	}
	return n > 0, err
}

func closeFD(fd int) {
	if fd >= 0 {
		_ = unix.Close(fd)
	}
}
