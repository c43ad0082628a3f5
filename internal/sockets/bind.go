package sockets

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/batonhq/baton/internal/config"
	"golang.org/x/sys/unix"
)

// Socket is one bound, listening socket owned by the master.
type Socket struct {
	Name    string   // LISTEN_FDNAMES entry
	Network string   // "tcp" or "unix"
	Addr    string   // the bound address (the real port when 0 was asked)
	File    *os.File // the listening descriptor, close-on-exec in the master

	bound unix.Sockaddr // tcp: the address bound, to bind it again when healing
	file  fileID        // unix: the socket file this master created
}

// fileID identifies a file by device and inode.
type fileID struct{ dev, ino uint64 }

// statID returns path's identity without following a symlink.
func statID(path string) (fileID, bool) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino}, true
}

// Backlog returns the kernel's largest accept backlog (net.core.somaxconn),
// or 4096 when it cannot be read.
func Backlog() int {
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		return 4096
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return 4096
	}
	return n
}

// BindAll binds every socket in order. On any error, the sockets already
// bound are closed and the error names the address.
func BindAll(specs []config.Listen) ([]*Socket, error) {
	out := make([]*Socket, 0, len(specs))
	for _, s := range specs {
		sock, err := Bind(s)
		if err != nil {
			CloseAll(out)
			return nil, err
		}
		out = append(out, sock)
	}
	return out, nil
}

// CloseAll closes every socket; unix socket files are removed.
func CloseAll(socks []*Socket) {
	for _, s := range socks {
		s.Close()
	}
}

// Close closes the descriptor and removes a unix socket's file, only when
// the file at that path is still the one this master created.
func (s *Socket) Close() {
	if s.Network == "unix" && s.file != (fileID{}) {
		if id, ok := statID(s.Addr); ok && id == s.file {
			_ = os.Remove(s.Addr)
		}
	}
	_ = s.File.Close()
}

// Bind creates one listening socket. A unix socket gets s.Mode (when not
// 0) after bind and before listen, so no client connects before it is set.
func Bind(s config.Listen) (*Socket, error) {
	if s.Network == "unix" {
		return bindUnix(s)
	}
	return bindTCP(s)
}

func bindTCP(s config.Listen) (*Socket, error) {
	host, port, _ := net.SplitHostPort(s.Address)
	p, _ := strconv.Atoi(port)
	if host == "" {
		sock, err := listenTCP(s, unix.AF_INET6, &unix.SockaddrInet6{Port: p}, true)
		if err == nil || !errors.Is(err, unix.EAFNOSUPPORT) {
			return sock, err
		}
		return listenTCP(s, unix.AF_INET, &unix.SockaddrInet4{Port: p}, false)
	}
	ip := net.ParseIP(host)
	if ip == nil {
		addrs, err := net.LookupIP(host)
		if err != nil || len(addrs) == 0 {
			return nil, fmt.Errorf("bind %s: resolve host %q: %w", s.Address, host, err)
		}
		ip = addrs[0]
	}
	if ip4 := ip.To4(); ip4 != nil {
		sa := &unix.SockaddrInet4{Port: p}
		copy(sa.Addr[:], ip4)
		return listenTCP(s, unix.AF_INET, sa, false)
	}
	sa := &unix.SockaddrInet6{Port: p}
	copy(sa.Addr[:], ip.To16())
	return listenTCP(s, unix.AF_INET6, sa, false)
}

func listenTCP(s config.Listen, family int, sa unix.Sockaddr, dualStack bool) (*Socket, error) {
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("bind %s: create socket: %w", s.Address, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind %s: set SO_REUSEADDR: %w", s.Address, err)
	}
	if dualStack {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.EADDRINUSE) {
			return nil, fmt.Errorf("bind %s: address already in use (another process listens there)", s.Address)
		}
		if errors.Is(err, unix.EACCES) {
			return nil, fmt.Errorf("bind %s: %w: ports below %d need root or CAP_NET_BIND_SERVICE (see sysctl net.ipv4.ip_unprivileged_port_start)", s.Address, err, unprivilegedPortStart())
		}
		return nil, fmt.Errorf("bind %s: %w", s.Address, err)
	}
	return finishListen(s, fd)
}

func finishListen(s config.Listen, fd int) (*Socket, error) {
	if err := unix.Listen(fd, Backlog()); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind %s: %w", s.Address, err)
	}
	f := os.NewFile(uintptr(fd), s.Name)
	sock := &Socket{Name: s.Name, Network: s.Network, Addr: s.Address, File: f}
	if s.Network == "tcp" {
		if sa, err := unix.Getsockname(fd); err == nil {
			sock.Addr = sockaddrString(sa)
			sock.bound = sa
		}
	}
	return sock, nil
}

func sockaddrString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	case *unix.SockaddrInet6:
		ip := net.IP(a.Addr[:])
		if ip.IsUnspecified() {
			return net.JoinHostPort("::", strconv.Itoa(a.Port))
		}
		return net.JoinHostPort(ip.String(), strconv.Itoa(a.Port))
	}
	return ""
}

func bindUnix(s config.Listen) (*Socket, error) {
	if err := removeStale(s.Address); err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("bind unix:%s: create socket: %w", s.Address, err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: s.Address}); err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.EACCES) {
			return nil, fmt.Errorf("bind unix:%s: %w: uid %d cannot create a file in %s", s.Address, err, os.Getuid(), filepath.Dir(s.Address))
		}
		return nil, fmt.Errorf("bind unix:%s: %w", s.Address, err)
	}
	id, _ := statID(s.Address)
	if err := setMode(s); err != nil {
		unix.Close(fd)
		_ = os.Remove(s.Address)
		return nil, err
	}
	sock, err := finishListen(s, fd)
	if err != nil {
		_ = os.Remove(s.Address)
		return nil, err
	}
	sock.file = id
	return sock, nil
}

// setMode gives a freshly bound unix socket file its --listen-mode.
func setMode(s config.Listen) error {
	if s.Mode == 0 {
		return nil
	}
	if err := os.Chmod(s.Address, s.Mode.Perm()); err != nil {
		return fmt.Errorf("bind unix:%s: set mode %04o: %w", s.Address, uint32(s.Mode.Perm()), err)
	}
	return nil
}

// removeStale removes a unix socket file that nothing listens on any more;
// a live one, or a file that is not a socket, is an error.
func removeStale(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bind unix:%s: %w", path, err)
	}
	if st.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("bind unix:%s: the path exists and is not a socket; remove it or choose another path", path)
	}
	conn, err := net.Dial("unix", path)
	if err == nil {
		conn.Close()
		return fmt.Errorf("bind unix:%s: a live process is listening on this socket", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("bind unix:%s: probe existing socket: %w", path, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("bind unix:%s: remove stale socket: %w", path, err)
	}
	return nil
}

// unprivilegedPortStart is the lowest port anyone may bind
// (net.ipv4.ip_unprivileged_port_start, 1024 unless changed).
func unprivilegedPortStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if err != nil {
		return 1024
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 1024
	}
	return n
}
