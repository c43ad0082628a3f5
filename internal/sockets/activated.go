package sockets

import (
	"net"
	"os"
	"strconv"

	"github.com/batonhq/baton/internal/config"
	"golang.org/x/sys/unix"
)

// Passed is a listening descriptor the master was started with by a
// service manager (systemd socket activation or its fd store), described
// by what the kernel says it is bound to.
type Passed struct {
	FD      int
	Name    string // its LISTEN_FDNAMES entry ("unknown" when unnamed)
	Network string // "tcp" or "unix"; "" when it is no listening socket
	Address string // the bound address, as Socket.Addr renders it
}

// DescribePassed reads what descriptor fd (named name) is.
func DescribePassed(fd int, name string) Passed {
	p := Passed{FD: fd, Name: name}
	if on, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || on == 0 {
		return p
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return p
	}
	switch a := sa.(type) {
	case *unix.SockaddrUnix:
		p.Network, p.Address = "unix", a.Name
	case *unix.SockaddrInet4, *unix.SockaddrInet6:
		p.Network, p.Address = "tcp", sockaddrString(sa)
	}
	return p
}

// MatchPassed returns the index in passed of the descriptor --listen l
// should take, or -1: first one named as l is whose address fits l (for
// port 0, any port on that host), then any whose address fits l. used
// marks descriptors already taken.
func MatchPassed(l config.Listen, passed []Passed, used map[int]bool) int {
	for pass := 0; pass < 2; pass++ {
		for i, p := range passed {
			if used[i] || (pass == 0 && p.Name != l.Name) {
				continue
			}
			if p.Network == l.Network && sameAddress(l, p.Address, pass == 0) {
				return i
			}
		}
	}
	return -1
}

// sameAddress reports whether a socket bound to bound serves --listen l:
// the same unix path, or the same port and host (":PORT" is any
// unspecified address). Port 0 (any port) matches only when named, that is
// when anyPort is set.
func sameAddress(l config.Listen, bound string, anyPort bool) bool {
	if l.Network == "unix" {
		return l.Address == bound
	}
	host, port, err := net.SplitHostPort(l.Address)
	bhost, bport, berr := net.SplitHostPort(bound)
	if err != nil || berr != nil {
		return false
	}
	if p, _ := strconv.Atoi(port); (p == 0 && !anyPort) || (p != 0 && port != bport) {
		return false
	}
	bip := net.ParseIP(bhost)
	if host == "" {
		return bip != nil && bip.IsUnspecified()
	}
	ip := net.ParseIP(host)
	if ip == nil { // a name: resolve it as Bind would
		ips, err := net.LookupIP(host)
		if err != nil || len(ips) == 0 {
			return false
		}
		ip = ips[0]
	}
	return bip != nil && ip.Equal(bip)
}

// AdoptPassed takes descriptor p for --listen l (a service manager's
// sockets are not close-on-exec; the master's must be).
func AdoptPassed(l config.Listen, p Passed) (*Socket, error) {
	unix.CloseOnExec(p.FD)
	return Adopt(l, os.NewFile(uintptr(p.FD), l.Name))
}
