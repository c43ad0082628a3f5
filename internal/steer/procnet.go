package steer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// TCP states in /proc/net/tcp.
const (
	tcpSynRecv  = 0x03
	tcpTimeWait = 0x06
	tcpListen   = 0x0A
)

// socket is one line of /proc/net/tcp or tcp6.
type socket struct {
	port   int
	state  int
	rqueue int // for a listener: connections waiting in its accept queue
	inode  uint64
}

// sockets reads the TCP sockets of the master's network namespace.
func sockets() ([]socket, error) {
	var all []socket
	for _, name := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(name)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // no IPv6
			}
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			if s, ok := parseSocket(sc.Bytes()); ok {
				all = append(all, s)
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
	}
	return all, nil
}

// parseSocket parses "sl local rem st tx:rx tr:when retr uid timeout inode ...".
func parseSocket(line []byte) (socket, bool) {
	f := bytes.Fields(line)
	if len(f) < 10 {
		return socket{}, false
	}
	var s socket
	_, portHex, ok := bytes.Cut(f[1], []byte(":"))
	port, err1 := strconv.ParseUint(string(portHex), 16, 16)
	st, err2 := strconv.ParseUint(string(f[3]), 16, 8)
	_, rqHex, ok2 := bytes.Cut(f[4], []byte(":"))
	rq, err3 := strconv.ParseUint(string(rqHex), 16, 32)
	inode, err4 := strconv.ParseUint(string(f[9]), 10, 64)
	if !ok || !ok2 || err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return socket{}, false
	}
	s.port, s.state, s.rqueue, s.inode = int(port), int(st), int(rq), inode
	return s, true
}

// Tree is a process and its descendants, read from /proc.
func Tree(root int) []int {
	children := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parens.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(b[i+1:])
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(string(f[1])); err == nil {
			children[ppid] = append(children[ppid], pid)
		}
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
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
		socks, err := sockets()
		if err != nil {
			return nil, err
		}
		fds := socketFDs(Tree(root))
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

// CountConns counts what the process root and its descendants still hold
// of the connections steered to them: open connections whose local port
// is one of ports (a steered connection keeps the address the client
// dialled), and the connections waiting in the accept queue of their
// listener on listenPort, and handshakes under way to ports (which may
// be for any worker: they are not told apart before accept).
func CountConns(root, listenPort int, ports []int) (int, error) {
	socks, err := sockets()
	if err != nil {
		return 0, err
	}
	fds := socketFDs(Tree(root))
	n := 0
	for _, s := range socks {
		if s.state == tcpSynRecv && slices.Contains(ports, s.port) {
			n++ // a handshake under way, to this worker or another: wait for it too
			continue
		}
		if _, ok := fds[s.inode]; !ok {
			continue
		}
		switch {
		case s.state == tcpListen && s.port == listenPort:
			n += s.rqueue
		case s.state != tcpListen && s.state != tcpTimeWait && slices.Contains(ports, s.port):
			n++
		}
	}
	return n, nil
}
