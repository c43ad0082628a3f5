package proxy

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// ports hands out free loopback ports, never one a live worker of this
// master holds.
type ports struct {
	mu    sync.Mutex
	inUse map[int]bool
}

func newPorts() *ports { return &ports{inUse: map[int]bool{}} }

// take finds a port that nothing listens on now, on either loopback (the
// kernel picks it), and reserves it until give.
func (p *ports) take() (int, error) {
	for i := 0; i < 16; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free loopback port for a worker: %w", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if !freeOnIPv6Loopback(port) {
			continue
		}
		p.mu.Lock()
		free := !p.inUse[port]
		if free {
			p.inUse[port] = true
		}
		p.mu.Unlock()
		if free {
			return port, nil
		}
	}
	return 0, fmt.Errorf("find a free loopback port for a worker: the kernel kept giving ports of live workers, or ports in use on [::1]")
}

// freeOnIPv6Loopback says whether nothing listens on [::1]:port either
// (true where IPv6 is off): a worker that binds the IPv6 loopback alone
// is reached there (see loopback), so another program listening there
// would be taken for it.
func freeOnIPv6Loopback(port int) bool {
	ln, err := net.Listen("tcp6", "[::1]:"+strconv.Itoa(port))
	if err != nil {
		return !errors.Is(err, syscall.EADDRINUSE)
	}
	ln.Close()
	return true
}

// give makes port available again.
func (p *ports) give(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.inUse, port)
}

// withPort replaces {port} in every argument of command.
func withPort(command []string, port int) []string {
	out := make([]string, len(command))
	s := strconv.Itoa(port)
	for i, a := range command {
		out[i] = strings.ReplaceAll(a, "{port}", s)
	}
	return out
}
