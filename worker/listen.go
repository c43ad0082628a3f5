package worker

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/batonhq/baton/internal/wire"
	"golang.org/x/sys/unix"
)

// Listener is an inherited listening socket and its LISTEN_FDNAMES name.
type Listener struct {
	Name string
	net.Listener
}

// inherited is the one piece of process-wide state in this package: the
// sockets passed down at start. The activation environment itself is
// process-wide, so the descriptors are taken once, marked close-on-exec,
// and the LISTEN_* variables are unset so that children do not inherit
// them.
var inherited struct {
	once  sync.Once
	files []*os.File
	names []string
	err   error
}

func takeInherited() ([]*os.File, []string, error) {
	inherited.once.Do(func() {
		a, ok, err := wire.ParseActivation(os.Getenv)
		if err != nil {
			inherited.err = fmt.Errorf("read socket activation environment: %w", err)
			return
		}
		// Sockets meant for another process (LISTEN_PID is not ours) are
		// left alone: not ours to use or close.
		if !ok || a.PID != os.Getpid() {
			return
		}
		for i := 0; i < a.Count; i++ {
			fd := wire.FirstFD + i
			unix.CloseOnExec(fd)
			inherited.files = append(inherited.files, os.NewFile(uintptr(fd), a.Names[i]))
		}
		inherited.names = a.Names
		for _, k := range []string{wire.EnvListenFDs, wire.EnvListenPID, wire.EnvListenFDNames} {
			_ = os.Unsetenv(k)
		}
	})
	return inherited.files, inherited.names, inherited.err
}

// Listeners returns every inherited listening socket, in order (fd 3, 4,
// ...). It returns none, and no error, when the process was not started by
// baton or systemd socket activation. Each call returns new listeners on
// the same sockets.
func Listeners() ([]Listener, error) {
	files, names, err := takeInherited()
	if err != nil {
		return nil, err
	}
	out := make([]Listener, 0, len(files))
	for i, f := range files {
		ln, err := net.FileListener(f)
		if err != nil {
			for _, l := range out {
				l.Close()
			}
			return nil, fmt.Errorf("use inherited fd %d (%s) as a listener: %w", wire.FirstFD+i, names[i], err)
		}
		out = append(out, Listener{Name: names[i], Listener: ln})
	}
	return out, nil
}

// Listen returns the inherited socket named name (LISTEN_FDNAMES) when run
// under baton or systemd, else binds fallbackAddr itself: "HOST:PORT",
// ":PORT", "[::1]:PORT" or "unix:/path". When exactly one socket is
// inherited it is used whatever its name (`baton run -l :8080` names it
// socket0, plain systemd-socket-activate leaves it unnamed); with several,
// the name must match one of them.
func Listen(name, fallbackAddr string) (net.Listener, error) {
	files, names, err := takeInherited()
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return listenFallback(fallbackAddr)
	}
	idx := -1
	for i, n := range names {
		if n == name {
			idx = i
			break
		}
	}
	if idx < 0 && len(files) == 1 {
		idx = 0 // one socket: it is the one, whatever it is called
	}
	if idx < 0 {
		return nil, fmt.Errorf("no inherited socket named %q: the supervisor passed %s", name, strings.Join(names, ", "))
	}
	ln, err := net.FileListener(files[idx])
	if err != nil {
		return nil, fmt.Errorf("use inherited socket %q (fd %d): %w", name, wire.FirstFD+idx, err)
	}
	return ln, nil
}

func listenFallback(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, errors.New("no inherited socket and no fallback address")
	}
	network := "tcp"
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, addr = "unix", p
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, fmt.Errorf("bind fallback address %s: %w", addr, err)
	}
	return ln, nil
}
