package steer

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// MaxWorkers is how many workers the map holds; more stay on the proxy.
const MaxWorkers = 1024

// Steerer is one master's steering program, attached to its network
// namespace until Close. Its methods are safe for concurrent use.
type Steerer struct {
	mu      sync.Mutex
	prog    *ebpf.Program
	link    link.Link
	socks   *ebpf.Map       // SOCKMAP, slot → a worker's listening socket
	count   *ebpf.Map       // ARRAY[1]: how many slots from 0 are in use
	cursor  *ebpf.Map       // PERCPU_ARRAY[1]: round-robin cursor of each CPU
	slots   []*member       // the map's slots; an empty one (nil) passes to the proxy
	members map[int]*member // every worker in rotation, by id, benched ones too
	closed  bool
	done    chan struct{} // closed by Close: the backlog watch ends
}

// member is a worker in the rotation.
type member struct {
	id      int
	open    Opener
	inode   uint64 // its listener's, for its accept queue
	benched bool   // out of the map while its accept queue is backed up
	over    int    // checks in a row with the queue at BenchQueue or more
}

// ErrUnsupported wraps why steering cannot run here (not root, an old
// kernel, no BPF): the caller proxies every connection itself.
var ErrUnsupported = errors.New("kernel steering unavailable")

// ErrMPTCP: the worker listens with Multipath TCP (Go 1.24 and later do
// by default), which a SOCKMAP cannot hold; GODEBUG=multipathtcp=0 in the
// worker's environment makes it plain TCP.
var ErrMPTCP = errors.New("its listener is Multipath TCP (the default of Go 1.24+; GODEBUG=multipathtcp=0 turns it off), which the kernel cannot steer to")

// isMPTCP reports whether f is a Multipath TCP socket.
func isMPTCP(f *os.File) bool {
	p, err := unix.GetsockoptInt(int(f.Fd()), unix.SOL_SOCKET, unix.SO_PROTOCOL)
	return err == nil && p == unix.IPPROTO_MPTCP
}

// New loads and attaches the program for the listening addresses addrs.
// onBench, if not nil, hears of each worker benched for its backed-up
// accept queue, and of its return.
func New(addrs []Address, onBench func(id, queue int, benched bool)) (*Steerer, error) {
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%w: no TCP listener to steer", ErrUnsupported)
	}
	s := &Steerer{members: map[int]*member{}, done: make(chan struct{})}
	var err error
	if s.socks, err = ebpf.NewMap(&ebpf.MapSpec{Name: "baton_socks", Type: ebpf.SockMap, KeySize: 4, ValueSize: 8, MaxEntries: MaxWorkers}); err != nil {
		return nil, fmt.Errorf("%w: create the socket map: %v", ErrUnsupported, err)
	}
	if s.count, err = ebpf.NewMap(&ebpf.MapSpec{Name: "baton_count", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1}); err != nil {
		s.Close()
		return nil, fmt.Errorf("%w: create the count map: %v", ErrUnsupported, err)
	}
	if s.cursor, err = ebpf.NewMap(&ebpf.MapSpec{Name: "baton_cursor", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 4, MaxEntries: 1}); err != nil {
		s.Close()
		return nil, fmt.Errorf("%w: create the cursor map: %v", ErrUnsupported, err)
	}
	s.prog, err = ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{
		Name:         "baton_steer",
		Type:         ebpf.SkLookup,
		AttachType:   ebpf.AttachSkLookup,
		Instructions: instructions(addrs, s.socks, s.count, s.cursor),
		License:      "Dual MIT/GPL",
	}, ebpf.ProgramOptions{LogDisabled: false})
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("%w: load the sk_lookup program: %v", ErrUnsupported, err)
	}
	ns, err := os.Open("/proc/self/ns/net")
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("%w: open the network namespace: %v", ErrUnsupported, err)
	}
	defer ns.Close()
	if s.link, err = link.AttachNetNs(int(ns.Fd()), s.prog); err != nil {
		s.Close()
		return nil, fmt.Errorf("%w: attach to the network namespace: %v", ErrUnsupported, err)
	}
	if _, err := acceptQueues(); err != nil {
		s.Close()
		return nil, fmt.Errorf("%w: read the accept queues: %v", ErrUnsupported, err)
	}
	if onBench == nil {
		onBench = func(int, int, bool) {}
	}
	go s.watchBacklogs(onBench)
	return s, nil
}

// Opener opens a duplicate of a worker's listening socket, afresh each
// time (the map keeps only its own reference to the socket, so that a
// listener whose worker exits leaves the map by itself).
type Opener func() (*os.File, error)

// Backlog bounds: a worker whose accept queue holds at least BenchQueue
// connections at two checks in a row (a hung or saturated worker: the
// kernel accepts for it while it takes nothing) is benched, out of the
// map, until its queue is empty again. Meanwhile its share goes to the
// master's proxy, whose least-open-connections pick passes it over.
const (
	BenchQueue    = 8
	BacklogPeriod = 100 * time.Millisecond
)

// Add puts worker id's listening socket, opened by open, in the rotation.
func (s *Steerer) Add(id int, open Opener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("steering: closed")
	}
	if _, ok := s.members[id]; ok {
		return nil
	}
	w := &member{id: id, open: open}
	if err := s.enterLocked(w); err != nil {
		return fmt.Errorf("steering: worker %d: %w", id, err)
	}
	s.members[id] = w
	return nil
}

// enterLocked puts w in the first free slot of the map.
func (s *Steerer) enterLocked(w *member) error {
	slot := slices.Index(s.slots, nil)
	if slot < 0 {
		if len(s.slots) >= MaxWorkers {
			return fmt.Errorf("%d workers in the map already", MaxWorkers)
		}
		slot = len(s.slots)
	}
	ino, err := s.put(uint32(slot), w.open)
	if err != nil {
		return err
	}
	w.inode, w.benched, w.over = ino, false, 0
	if slot == len(s.slots) {
		s.slots = append(s.slots, nil)
	}
	s.slots[slot] = w
	return s.setCount()
}

// put opens a worker's listener and stores it in slot; it returns the
// listener's socket inode.
func (s *Steerer) put(slot uint32, open Opener) (uint64, error) {
	f, err := open()
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := s.socks.Update(slot, uint64(f.Fd()), ebpf.UpdateAny); err != nil {
		if isMPTCP(f) {
			return 0, ErrMPTCP
		}
		return 0, fmt.Errorf("put its listener in the map: %w", err)
	}
	return inode(f)
}

// Remove takes worker id out of the rotation: no new connection goes to
// it afterwards.
func (s *Steerer) Remove(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.members[id]; ok && !s.closed {
		delete(s.members, id)
		s.leaveLocked(w)
	}
}

// leaveLocked takes w out of the map. The last slot's worker moves into
// its slot, so that the slots stay dense; a lookup racing with the change
// finds a worker in rotation, or an empty slot and then the master's proxy.
func (s *Steerer) leaveLocked(w *member) {
	at := slices.Index(s.slots, w)
	if at < 0 {
		return
	}
	last := len(s.slots) - 1
	if at != last && s.slots[last] != nil {
		if _, err := s.put(uint32(at), s.slots[last].open); err == nil {
			s.slots[at] = s.slots[last]
			at = last
		}
	}
	_ = s.socks.Delete(uint32(at))
	s.slots[at] = nil
	for len(s.slots) > 0 && s.slots[len(s.slots)-1] == nil {
		s.slots = s.slots[:len(s.slots)-1]
	}
	_ = s.setCount()
}

// watchBacklogs benches and brings back workers by their accept queues,
// every BacklogPeriod, until Close.
func (s *Steerer) watchBacklogs(onBench func(id, queue int, benched bool)) {
	t := time.NewTicker(BacklogPeriod)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		queues, err := acceptQueues()
		if err != nil {
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		var changed []func()
		for _, w := range s.members {
			q := queues[w.inode]
			switch {
			case !w.benched && q >= BenchQueue:
				if w.over++; w.over >= 2 {
					s.leaveLocked(w)
					w.benched = true
					changed = append(changed, func() { onBench(w.id, q, true) })
				}
			case !w.benched:
				w.over = 0
			case w.benched && q == 0:
				if s.enterLocked(w) == nil {
					changed = append(changed, func() { onBench(w.id, 0, false) })
				}
			}
		}
		s.mu.Unlock()
		for _, f := range changed {
			f()
		}
	}
}

func (s *Steerer) setCount() error {
	if err := s.count.Update(uint32(0), uint32(len(s.slots)), ebpf.UpdateAny); err != nil {
		return fmt.Errorf("steering: update the worker count: %w", err)
	}
	return nil
}

// Workers is how many workers are in the map.
func (s *Steerer) Workers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, w := range s.slots {
		if w != nil {
			n++
		}
	}
	return n
}

// Close detaches the program: every connection goes to the master's
// listeners again. Safe to call more than once.
func (s *Steerer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		close(s.done)
	}
	s.closed = true
	var errs []error
	if s.link != nil {
		errs = append(errs, s.link.Close())
		s.link = nil
	}
	for _, c := range []interface{ Close() error }{s.prog, s.socks, s.count, s.cursor} {
		if c != nil && c != (*ebpf.Program)(nil) && c != (*ebpf.Map)(nil) {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}
