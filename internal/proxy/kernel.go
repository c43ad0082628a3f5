package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/batonhq/baton/internal/steer"
)

// kernelRotation is --proxy tcp's second rotation, in the kernel (package
// steer): a worker in rotation gets new connections straight on its own
// listener, and the proxy only serves what the kernel passes on to the
// master's listeners (no worker in the map yet, a listener the kernel
// cannot take, unix sockets). It mirrors the pool: a worker joins when
// it is marked ready and leaves before it drains.
type kernelRotation struct {
	log *slog.Logger

	mu      sync.Mutex
	s       *steer.Steerer     // nil until start, and after stop
	members map[int]kernelSlot // workers in rotation, by backend id
	ports   []int              // the public TCP ports
	state   string             // for status: "kernel", or "off: why"
	stopped bool
	socks   steer.Sockets // the last reading, at socksAt
	socksAt time.Time
	warned  map[string]bool // reasons a worker stayed on the proxy, logged once each
}

type kernelSlot struct {
	b   *Backend
	pid int
}

func newKernelRotation(log *slog.Logger) *kernelRotation {
	return &kernelRotation{log: log, members: map[int]kernelSlot{}, warned: map[string]bool{}, state: "off: not started"}
}

// start loads the program for the TCP listeners among files and puts the
// workers already in rotation in the map.
func (k *kernelRotation) start(files []*os.File) {
	addrs, ports := steerAddresses(files)
	s, err := steer.New(addrs, k.benched)
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stopped {
		if s != nil {
			s.Close()
		}
		return
	}
	if err != nil {
		k.state = "off: " + err.Error()
		k.log.Info("proxy tcp: kernel steering is off, every connection goes through the master", "why", err.Error())
		return
	}
	k.s, k.ports, k.state = s, ports, "kernel"
	k.log.Info("proxy tcp: kernel steering on (BPF sk_lookup): new connections go straight to the workers' own listeners", "ports", ports)
	for _, m := range k.members {
		k.putLocked(m)
	}
}

// benched logs a worker leaving the kernel's rotation for its backed-up
// accept queue, or coming back.
func (k *kernelRotation) benched(id, queue int, out bool) {
	k.mu.Lock()
	m, ok := k.members[id]
	k.mu.Unlock()
	if !ok {
		return
	}
	if out {
		k.log.Warn("proxy tcp: a worker's accept queue is backing up: the kernel sends it no new connection until it catches up (the proxy may, by least open connections)",
			"slot", m.b.Slot, "pid", m.pid, "waiting", queue)
		return
	}
	k.log.Info("proxy tcp: a worker caught up: steered in the kernel again", "slot", m.b.Slot, "pid", m.pid)
}

// stop detaches the program: new connections go to the listeners again
// (the master stops, or hands over to a new one).
func (k *kernelRotation) stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stopped = true
	if k.s != nil {
		k.s.Close()
		k.s = nil
		k.state = "off: the master stopped accepting"
	}
}

// add puts b (the worker pid) in rotation.
func (k *kernelRotation) add(b *Backend, pid int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	m := kernelSlot{b: b, pid: pid}
	k.members[b.ID] = m
	if k.s != nil {
		k.putLocked(m)
	}
}

func (k *kernelRotation) putLocked(m kernelSlot) {
	err := k.s.Add(m.b.ID, steer.FindListener(m.pid, m.b.Port))
	if err == nil {
		m.b.steered.Store(true)
		return
	}
	why := err.Error()
	if errors.Is(err, steer.ErrMPTCP) {
		why = steer.ErrMPTCP.Error()
	}
	level := slog.LevelDebug
	if !k.warned[why] {
		k.warned[why] = true
		level = slog.LevelInfo
	}
	k.log.Log(context.Background(), level, "proxy tcp: a worker stays on the proxy, not steered in the kernel", "slot", m.b.Slot, "pid", m.pid, "why", why)
}

// remove takes b out of rotation: no new connection reaches it afterwards.
func (k *kernelRotation) remove(b *Backend) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.members, b.ID)
	if k.s != nil {
		k.s.Remove(b.ID)
	}
}

// held is how many steered connections the worker pid still holds (open,
// or waiting in its listener's accept queue).
func (k *kernelRotation) held(b *Backend, pid int) int {
	if !b.steered.Load() {
		return 0
	}
	socks, ports := k.sockets()
	return socks.Held(pid, b.Port, ports)
}

// socketsFresh is how long one reading of the sockets serves: a status
// of many workers, and drains under way at once, share it.
const socketsFresh = 50 * time.Millisecond

// sockets returns a recent reading of the TCP sockets, and the public ports.
func (k *kernelRotation) sockets() (steer.Sockets, []int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.socksAt.IsZero() || time.Since(k.socksAt) > socketsFresh {
		socks, err := steer.ReadSockets()
		if err != nil {
			k.log.Debug("proxy tcp: read the sockets", "err", err)
		}
		k.socks, k.socksAt = socks, time.Now()
	}
	return k.socks, k.ports
}

// waitHeld waits until the worker holds no steered connection, or until
// deadline or its exit; it reports whether none is left.
func (k *kernelRotation) waitHeld(b *Backend, pid int, deadline time.Time) bool {
	const every = socketsFresh
	for {
		if k.held(b, pid) == 0 {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		select {
		case <-b.gone:
			return false
		case <-time.After(min(every, left)):
		}
	}
}

// steered is how many workers are in the kernel's map.
func (k *kernelRotation) steered() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.s == nil {
		return 0
	}
	return k.s.Workers()
}

// status says whether steering is on, and why not.
func (k *kernelRotation) status() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.s != nil {
		return fmt.Sprintf("kernel, %d of %d workers", k.s.Workers(), len(k.members))
	}
	return k.state
}

// steerAddresses are the TCP listening addresses among files, and their ports.
func steerAddresses(files []*os.File) ([]steer.Address, []int) {
	var addrs []steer.Address
	var ports []int
	for _, f := range files {
		sa, err := unix.Getsockname(int(f.Fd()))
		if err != nil {
			continue
		}
		var a steer.Address
		switch sa := sa.(type) {
		case *unix.SockaddrInet4:
			a = steer.Address{IP: netip.AddrFrom4(sa.Addr), Port: uint16(sa.Port)}
		case *unix.SockaddrInet6:
			a = steer.Address{IP: netip.AddrFrom16(sa.Addr), Port: uint16(sa.Port)}
			if a.IP.IsUnspecified() {
				only, err := unix.GetsockoptInt(int(f.Fd()), unix.IPPROTO_IPV6, unix.IPV6_V6ONLY)
				a.DualStack = err == nil && only == 0
			}
		default:
			continue // unix sockets: the proxy serves them
		}
		if typ, err := unix.GetsockoptInt(int(f.Fd()), unix.SOL_SOCKET, unix.SO_TYPE); err != nil || typ != unix.SOCK_STREAM {
			continue
		}
		addrs = append(addrs, a)
		ports = append(ports, int(a.Port))
	}
	return addrs, ports
}
