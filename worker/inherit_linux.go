package worker

import (
	"errors"
	"fmt"
	"os"

	"github.com/batonhq/baton/internal/wire"
	"golang.org/x/sys/unix"
)

// take reads the activation environment. Descriptors meant for this
// process (LISTEN_PID == pid) are marked close-on-exec and the three
// LISTEN_* variables are unset so that children neither inherit the
// sockets nor believe they were meant for them. When LISTEN_PID names
// another process, nothing is touched: neither the variables nor the
// descriptors, which belong to whoever they were meant for.
func take(getenv func(string) string, pid int) ([]inheritedSocket, error) {
	a, ok, err := wire.ParseActivation(getenv)
	if err != nil {
		return nil, fmt.Errorf("read socket activation environment: %w", err)
	}
	if !ok || a.PID != pid {
		return nil, nil
	}
	socks := make([]inheritedSocket, 0, a.Count)
	for i := range a.Count {
		fd := wire.FirstFD + i
		unix.CloseOnExec(fd)
		socks = append(socks, inheritedSocket{name: a.Names[i], fd: fd, file: os.NewFile(uintptr(fd), a.Names[i])})
	}
	for _, k := range []string{wire.EnvListenFDs, wire.EnvListenPID, wire.EnvListenFDNames} {
		if err := os.Unsetenv(k); err != nil {
			return socks, fmt.Errorf("unset %s after taking the inherited sockets: %w", k, err)
		}
	}
	return socks, nil
}

// checkListening reports why fd is not a listening stream socket. It
// inspects the descriptor without changing it (os.File.Fd would switch
// the shared file description to blocking mode).
func checkListening(fd int) error {
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return fmt.Errorf("not a socket: %w", err)
	}
	switch typ {
	case unix.SOCK_STREAM:
	case unix.SOCK_DGRAM:
		return errors.New("a datagram socket, not a listening stream socket")
	default:
		return fmt.Errorf("a socket of type %d, not a listening stream socket", typ)
	}
	accepting, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	if err != nil {
		return fmt.Errorf("ask whether it listens: %w", err)
	}
	if accepting != 1 {
		return errors.New("a stream socket that is not listening (a connection, not a listener)")
	}
	return nil
}
