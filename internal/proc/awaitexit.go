package proc

import (
	"os"

	"golang.org/x/sys/unix"
)

// awaitExit blocks until process pid has exited, without holding an OS
// thread: it parks on the process's pidfd in the runtime's network poller
// (a pidfd turns readable when its process exits). A master with N
// workers would otherwise keep N threads blocked in wait4. It returns at
// once when no pollable pidfd can be had (Linux before 5.10); the Wait
// that follows then blocks a thread, as it always did. It never reaps.
func awaitExit(pid int) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Read(func(fd uintptr) bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		return err != nil || n > 0 // exited (or cannot tell): stop waiting
	})
}
