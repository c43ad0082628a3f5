package sockets

import (
	"fmt"
	"os"

	"github.com/batonhq/baton/internal/config"
	"golang.org/x/sys/unix"
)

// Adopt takes over a listening socket another master bound and passed
// down (a master upgrade), for the --listen l: f must be a socket that
// listens. The unix socket file at l.Address counts as this master's from
// now on (it removes it when it stops for good).
func Adopt(l config.Listen, f *os.File) (*Socket, error) {
	sock := &Socket{Name: l.Name, Network: l.Network, Addr: l.Address, File: f}
	var opErr error
	err := sock.control(func(fd int) {
		var on int
		if on, opErr = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); opErr == nil && on == 0 {
			opErr = fmt.Errorf("the descriptor does not listen")
		}
		if opErr == nil && l.Network == "tcp" {
			var sa unix.Sockaddr
			if sa, opErr = unix.Getsockname(fd); opErr == nil {
				sock.Addr, sock.bound = sockaddrString(sa), sa
			}
		}
	})
	if err == nil {
		err = opErr
	}
	if err != nil {
		return nil, fmt.Errorf("take over the socket %s (%s) passed down: %w", l.Name, l.Address, err)
	}
	if l.Network == "unix" {
		sock.file, _ = statID(l.Address)
	}
	return sock, nil
}

// Release closes this master's descriptor and leaves everything else as
// it is: after a hand-over, the socket (and its file) belongs to the new
// master.
func (s *Socket) Release() { _ = s.File.Close() }
