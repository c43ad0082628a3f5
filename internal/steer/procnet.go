package steer

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/batonhq/baton/internal/proc"
)

// TCP states, as sock_diag numbers them.
const (
	tcpSynRecv  = 0x03
	tcpTimeWait = 0x06
	tcpListen   = 0x0A
)

// socket is one TCP socket as sock_diag reports it.
type socket struct {
	port   int // local
	state  int
	rqueue int // for a listener: connections waiting in its accept queue
	inode  uint64
}

// Sockets is one reading of the namespace's TCP sockets (not those in
// TIME_WAIT, which no process holds), to count from for many workers.
type Sockets []socket

// ReadSockets reads the TCP sockets of the master's network namespace.
func ReadSockets() (Sockets, error) {
	var all Sockets
	err := dumpTCP(^uint32(1<<tcpTimeWait), func(s socket) { all = append(all, s) })
	return all, err
}

// socketFDs maps the socket inodes open in pids to one (pid, fd) each.
func socketFDs(pids []int) map[uint64][2]int {
	fds := map[uint64][2]int{}
	for _, pid := range pids {
		dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			target, err := os.Readlink(filepath.Join(dir, e.Name()))
			if err != nil {
				continue
			}
			rest, ok := strings.CutPrefix(target, "socket:[")
			if !ok {
				continue
			}
			inode, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64)
			fd, err2 := strconv.Atoi(e.Name())
			if err == nil && err2 == nil {
				if _, seen := fds[inode]; !seen {
					fds[inode] = [2]int{pid, fd}
				}
			}
		}
	}
	return fds
}

// FindListener returns an Opener of the TCP listener on port held by the
// process root or one of its descendants (a worker may be a shell, or a
// server that binds in a parent and accepts in children).
func FindListener(root, port int) Opener {
	return func() (*os.File, error) {
		var socks Sockets
		err := dumpTCP(1<<tcpListen, func(s socket) { socks = append(socks, s) })
		if err != nil {
			return nil, err
		}
		fds := socketFDs(proc.Descendants(root))
		for _, s := range socks {
			if s.state != tcpListen || s.port != port {
				continue
			}
			at, ok := fds[s.inode]
			if !ok {
				continue
			}
			pidfd, err := unix.PidfdOpen(at[0], 0)
			if err != nil {
				return nil, fmt.Errorf("pidfd_open %d: %w", at[0], err)
			}
			fd, err := unix.PidfdGetfd(pidfd, at[1], 0)
			unix.Close(pidfd)
			if err != nil {
				return nil, fmt.Errorf("take fd %d of pid %d (pidfd_getfd): %w", at[1], at[0], err)
			}
			return os.NewFile(uintptr(fd), fmt.Sprintf("worker %d listener :%d", at[0], port)), nil
		}
		return nil, fmt.Errorf("no listener on port %d in process %d or its children", port, root)
	}
}

// Held counts what the process root and its descendants still hold of
// the connections steered to them: open connections whose local port is
// one of ports (a steered connection keeps the address the client
// dialled), the connections waiting in the accept queue of their
// listener on listenPort, and handshakes under way to ports (which may
// be for any worker: they are not told apart before accept).
func (all Sockets) Held(root, listenPort int, ports []int) int {
	fds := socketFDs(proc.Descendants(root))
	n := 0
	for _, s := range all {
		if s.state == tcpSynRecv && slices.Contains(ports, s.port) {
			n++
			continue
		}
		if _, ok := fds[s.inode]; !ok {
			continue
		}
		switch {
		case s.state == tcpListen && s.port == listenPort:
			n += s.rqueue
		case s.state != tcpListen && slices.Contains(ports, s.port):
			n++
		}
	}
	return n
}
