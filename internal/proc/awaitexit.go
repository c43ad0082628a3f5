package proc

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// AwaitExit blocks until process pid has exited or done closes (nil: never),
// without holding an OS thread: it parks on the process's pidfd in the
// runtime's network poller (a pidfd turns readable when its process
// exits). A master with N workers would otherwise keep N threads blocked
// in wait4. It never reaps: a child's Wait still follows. It reports false
// when no pollable pidfd can be had (Linux before 5.10), having waited for
// nothing; a pid that no longer exists counts as exited.
func AwaitExit(pid int, done <-chan struct{}) bool {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if errors.Is(err, unix.ESRCH) {
		return true
	}
	if err != nil {
		return false
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	if done != nil {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			select {
			case <-done:
				_ = f.Close() // ends the Read below
			case <-stop:
			}
		}()
	}
	_ = rc.Read(func(fd uintptr) bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		return err != nil || n > 0 // exited (or cannot tell): stop waiting
	})
	return true
}
