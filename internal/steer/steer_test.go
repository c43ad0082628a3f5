package steer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// newSteerer loads the program for ln, or skips where the kernel or the
// user cannot (the proxy then serves every connection: tested elsewhere).
func newSteerer(t *testing.T, ln net.Listener) *Steerer {
	t.Helper()
	ap := netip.MustParseAddrPort(ln.Addr().String())
	// The backlog watcher may report once more after Close returns (it
	// calls back outside its lock): its reports are kept and logged at
	// the end, since t.Logf after the test ends panics.
	var mu sync.Mutex
	var reports []string
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range reports {
			t.Log(r)
		}
	})
	s, err := New([]Address{{IP: ap.Addr(), Port: ap.Port()}}, func(id, queue int, benched bool) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, fmt.Sprintf("worker %d benched=%v (queue %d)", id, benched, queue))
	})
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("kernel steering cannot run here (needs root and Linux 5.9+ with BPF sk_lookup): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func listen(t *testing.T, network, addr string) *net.TCPListener {
	t.Helper()
	// Plain TCP: Go listens with MPTCP by default, and the kernel cannot
	// put an MPTCP listener in a SOCKMAP (the workers a user runs are
	// mostly not Go; TestMPTCPListenerIsRefused covers the Go default).
	var lc net.ListenConfig
	lc.SetMultipathTCP(false)
	ln, err := lc.Listen(context.Background(), network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.(*net.TCPListener)
}

// acceptedBy dials public and reports which of lns accepted the connection.
func acceptedBy(t *testing.T, public string, lns ...*net.TCPListener) int {
	t.Helper()
	c, err := net.Dial("tcp", public)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for {
		for i, ln := range lns {
			ln.SetDeadline(time.Now().Add(time.Millisecond))
			if a, err := ln.Accept(); err == nil {
				local, peer := a.LocalAddr().String(), a.RemoteAddr().String()
				a.Close()
				if peer != c.LocalAddr().String() {
					continue // an earlier connection left in this queue, not this one
				}
				if local != public {
					t.Fatalf("accepted with local address %s, want the dialled %s", local, public)
				}
				return i
			}
		}
	}
}

func TestSteersToTheWorkersListenersRoundRobin(t *testing.T) {
	public := listen(t, "tcp", "127.0.0.1:0")
	s := newSteerer(t, public)
	w1, w2 := listen(t, "tcp", "127.0.0.1:0"), listen(t, "tcp", "127.0.0.1:0")
	pub := public.Addr().String()

	if got := acceptedBy(t, pub, public, w1, w2); got != 0 {
		t.Fatalf("no worker in the map: listener %d took the connection, want the master's", got)
	}
	if err := s.Add(1, FindListener(os.Getpid(), w1.Addr().(*net.TCPAddr).Port)); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(2, FindListener(os.Getpid(), w2.Addr().(*net.TCPAddr).Port)); err != nil {
		t.Fatal(err)
	}
	seen := map[int]int{}
	for range 20 {
		seen[acceptedBy(t, pub, public, w1, w2)]++
	}
	if seen[0] != 0 || seen[1] == 0 || seen[2] == 0 {
		t.Fatalf("accepted by listener (0 master, 1 and 2 workers): %v, want both workers and never the master", seen)
	}

	s.Remove(1)
	for range 10 {
		if got := acceptedBy(t, pub, public, w1, w2); got != 2 {
			t.Fatalf("worker 1 removed: listener %d took a connection, want worker 2", got)
		}
	}
	// A worker's listener that closes leaves the map by itself: its
	// connections go to the master again, none to a dead socket.
	w2.Close()
	for range 5 {
		if got := acceptedBy(t, pub, public, w1); got != 0 {
			t.Fatalf("worker 2's listener closed: listener %d took a connection, want the master's", got)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestLeavesOtherPortsAndAddressesAlone(t *testing.T) {
	public := listen(t, "tcp", "127.0.0.1:0")
	s := newSteerer(t, public)
	w := listen(t, "tcp", "127.0.0.1:0")
	if err := s.Add(1, FindListener(os.Getpid(), w.Addr().(*net.TCPAddr).Port)); err != nil {
		t.Fatal(err)
	}
	port := public.Addr().(*net.TCPAddr).Port
	// Same port on another loopback address: not ours.
	other := listen(t, "tcp", net.JoinHostPort("127.0.0.2", strconv.Itoa(port)))
	if got := acceptedBy(t, other.Addr().String(), other, w); got != 0 {
		t.Fatalf("a connection to 127.0.0.2 went to the worker")
	}
	// Another port on the same address: not ours either.
	third := listen(t, "tcp", "127.0.0.1:0")
	if got := acceptedBy(t, third.Addr().String(), third, w); got != 0 {
		t.Fatalf("a connection to another port went to the worker")
	}
}

func TestMPTCPListenerIsRefused(t *testing.T) {
	public := listen(t, "tcp", "127.0.0.1:0")
	s := newSteerer(t, public)
	var lc net.ListenConfig
	lc.SetMultipathTCP(true)
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if f, _ := ln.(*net.TCPListener).File(); !isMPTCP(f) {
		t.Skip("no MPTCP in this kernel")
	}
	err = s.Add(1, FindListener(os.Getpid(), ln.Addr().(*net.TCPAddr).Port))
	if !errors.Is(err, ErrMPTCP) || s.Workers() != 0 {
		t.Fatalf("an MPTCP listener was taken in the map (err %v)", err)
	}
	if got := acceptedBy(t, public.Addr().String(), public); got != 0 {
		t.Fatal("unreachable")
	}
}

// An IPv6 listener is steered to an IPv6 worker; an IPv6 connection that
// the kernel cannot give to an IPv4-only worker goes to the master.
func TestIPv6(t *testing.T) {
	var lc net.ListenConfig
	lc.SetMultipathTCP(false)
	probe, err := lc.Listen(context.Background(), "tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	probe.Close()
	public := listen(t, "tcp6", "[::1]:0")
	s := newSteerer(t, public)
	pub := public.Addr().String()
	w4 := listen(t, "tcp4", "127.0.0.1:0")
	if err := s.Add(1, FindListener(os.Getpid(), w4.Addr().(*net.TCPAddr).Port)); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if got := acceptedBy(t, pub, public, w4); got != 0 {
			t.Fatal("an IPv6 connection reached an IPv4 worker")
		}
	}
	s.Remove(1)
	w6 := listen(t, "tcp6", "[::1]:0")
	if err := s.Add(2, FindListener(os.Getpid(), w6.Addr().(*net.TCPAddr).Port)); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if got := acceptedBy(t, pub, public, w6); got != 1 {
			t.Fatal("an IPv6 connection did not reach the IPv6 worker")
		}
	}
}

// A worker that takes nothing (hung, or saturated) is benched once its
// accept queue backs up: new connections go to the master's listener
// (and its proxy) until the worker has caught up.
func TestAWorkerWhoseAcceptQueueBacksUpIsBenched(t *testing.T) {
	public := listen(t, "tcp", "127.0.0.1:0")
	s := newSteerer(t, public)
	w := listen(t, "tcp", "127.0.0.1:0")
	if err := s.Add(1, FindListener(os.Getpid(), w.Addr().(*net.TCPAddr).Port)); err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	// Connections nobody accepts, until the worker leaves the map.
	deadline := time.Now().Add(30 * time.Second)
	for s.Workers() == 1 {
		if time.Now().After(deadline) {
			t.Fatalf("worker still in the map with %d connections in its queue", len(held))
		}
		c, err := net.Dial("tcp", public.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		time.Sleep(5 * time.Millisecond) // pacing the dials, not waiting for a condition
	}
	if len(held) < BenchQueue {
		t.Fatalf("benched with %d connections queued, under %d", len(held), BenchQueue)
	}
	if got := acceptedBy(t, public.Addr().String(), public); got != 0 {
		t.Fatal("unreachable")
	}
	// The worker catches up: it is steered to again.
	for len(held) > 0 {
		w.SetDeadline(time.Now().Add(10 * time.Second))
		a, err := w.Accept()
		if err != nil {
			break
		}
		a.Close()
		held[0].Close()
		held = held[1:]
	}
	for s.Workers() != 1 {
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatal("the worker did not come back once its queue was empty")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := acceptedBy(t, public.Addr().String(), public, w); got != 1 {
		t.Fatal("a connection after the worker came back went to the master")
	}
}
