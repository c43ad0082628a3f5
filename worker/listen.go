package worker

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// ErrNoSocket is wrapped by the error Listen returns when sockets were
// inherited but none fits the name asked for.
var ErrNoSocket = errors.New("no inherited socket by that name")

// Listener is an inherited listening socket and its LISTEN_FDNAMES name
// ("unknown" when the supervisor gave none).
type Listener struct {
	Name string
	net.Listener
}

// Listen returns the listening socket to serve on.
//
// Under baton or systemd socket activation (LISTEN_FDS set and LISTEN_PID
// equal to this process's pid) it returns the inherited socket whose
// LISTEN_FDNAMES name is name. When exactly one socket was inherited it
// is used whatever its name (`baton run -l :8080` names it socket0, plain
// systemd-socket-activate leaves it "unknown"), so a program asking for
// "http" runs unchanged under either; an empty name asks for that only
// socket too. With several sockets and none of that name, the error wraps
// ErrNoSocket and lists the names available.
//
// When nothing was inherited, or LISTEN_PID names another process (the
// variables then leaked from a parent; they and the descriptors are left
// untouched), or on a system other than Linux, Listen binds fallbackAddr
// itself: "HOST:PORT", ":PORT", "[::1]:PORT" or "unix:/path" (an existing
// socket file is not removed).
//
// Each call returns a new net.Listener on a duplicate of the socket, so
// closing one never closes another, and Listen can be called once per
// name or several times for the same one.
func Listen(name, fallbackAddr string) (net.Listener, error) {
	socks, err := takeInherited()
	if err != nil {
		return nil, err
	}
	if len(socks) == 0 {
		return listenFallback(fallbackAddr)
	}
	s, err := pick(socks, name)
	if err != nil {
		return nil, err
	}
	return s.listener()
}

// pick finds the socket Listen(name) means.
func pick(socks []inheritedSocket, name string) (inheritedSocket, error) {
	names := make([]string, len(socks))
	for i, s := range socks {
		if name != "" && s.name == name {
			return s, nil
		}
		names[i] = s.name
	}
	if len(socks) == 1 {
		return socks[0], nil
	}
	if name == "" {
		return inheritedSocket{}, fmt.Errorf("listen on the only inherited socket: %w: there are %d (%s), name one",
			ErrNoSocket, len(socks), strings.Join(names, ", "))
	}
	return inheritedSocket{}, fmt.Errorf("listen on inherited socket %q: %w: the supervisor passed %s",
		name, ErrNoSocket, strings.Join(names, ", "))
}

// Listeners returns every inherited socket in order (fd 3, 4, ...), as
// new listeners on duplicates of them. It returns none, and no error, when
// the process was not socket-activated (or LISTEN_PID names another
// process, or the system is not Linux). It fails, naming the descriptor,
// when any inherited descriptor is not a listening TCP or unix stream
// socket: use Listen by name to take the usable ones from such a mixed set.
func Listeners() ([]Listener, error) {
	socks, err := takeInherited()
	if err != nil {
		return nil, err
	}
	out := make([]Listener, 0, len(socks))
	for _, s := range socks {
		ln, err := s.listener()
		if err != nil {
			for _, l := range out {
				_ = l.Close()
			}
			return nil, err
		}
		out = append(out, Listener{Name: s.name, Listener: ln})
	}
	return out, nil
}

func listenFallback(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, errors.New("listen: no socket inherited and no fallback address given")
	}
	network, where := "tcp", addr
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, where = "unix", p
	}
	ln, err := net.Listen(network, where)
	if err != nil {
		return nil, fmt.Errorf("bind fallback address %s: %w", addr, err)
	}
	return ln, nil
}
