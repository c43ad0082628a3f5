package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// echoUntilEOF answers each connection, after the client half-closed, with
// what it got and an optional prefix line it read first (PROXY header).
func tcpBackend(t *testing.T, serve func(net.Conn)) *Backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); serve(c) }()
		}
	}()
	nextID++
	return NewBackend(nextID, nextID, portOf(t, ln.Addr().String()))
}

func startTCP(t *testing.T, tp *TCP) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() { _ = tp.Serve(ln) }()
	return ln.Addr().String()
}

func TestTCPForwardsBothWaysWithHalfClose(t *testing.T) {
	pool := NewPool(time.Second)
	pool.Add(deadBackend(t)) // a refused dial is tried on the other
	pool.Add(tcpBackend(t, func(c net.Conn) {
		b, _ := io.ReadAll(c) // until the client's half-close
		fmt.Fprintf(c, "got %d bytes", len(b))
	}))
	tp := &TCP{Pool: pool, Log: quiet}
	addr := startTCP(t, tp)
	for i := 0; i < 4; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write(bytes.Repeat([]byte("x"), 100000))
		_ = c.(*net.TCPConn).CloseWrite()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil || string(got) != "got 100000 bytes" {
			t.Fatalf("connection %d: %q %v", i, got, err)
		}
	}
	waitFor(t, "the byte counts", func() bool { in, out := tp.Bytes(); return in == 400000 && out == 4*16 })
}

func TestTCPSendsProxyProtocolV1(t *testing.T) {
	lines := make(chan string, 1)
	pool := NewPool(time.Second)
	pool.Add(tcpBackend(t, func(c net.Conn) {
		l, _ := bufio.NewReader(c).ReadString('\n')
		lines <- l
	}))
	addr := startTCP(t, &TCP{Pool: pool, Log: quiet, ProxyProtocol: 1})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().(*net.TCPAddr)
	want := fmt.Sprintf("PROXY TCP4 127.0.0.1 127.0.0.1 %d %d\r\n", local.Port, portOf(t, addr))
	select {
	case l := <-lines:
		if l != want {
			t.Fatalf("header %q, want %q", l, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no header")
	}
}

func TestProxyHeaderV2(t *testing.T) {
	src := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 5000}
	dst := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 80}
	h, err := proxyHeader(2, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	want := append(v2Signature[:], 0x21, 0x11, 0, 12, 10, 0, 0, 1, 10, 0, 0, 2, 0x13, 0x88, 0, 80)
	if !bytes.Equal(h, want) {
		t.Fatalf("v2 header % x\nwant % x", h, want)
	}
	if h, _ := proxyHeader(1, &net.UnixAddr{}, dst); !strings.HasPrefix(string(h), "PROXY UNKNOWN") {
		t.Fatalf("unix client: %q", h)
	}
}

func TestTCPClosesAConnectionNoWorkerTook(t *testing.T) {
	pool := NewPool(100 * time.Millisecond)
	addr := startTCP(t, &TCP{Pool: pool, Log: quiet})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("read %d, %v: want the connection closed", n, err)
	}
	if pool.Counters().NoWorker.Load() != 1 {
		t.Fatalf("gave-up count %d", pool.Counters().NoWorker.Load())
	}
}

// A connection that waits for a worker and whose client gives up (here
// after sending a request) is dropped then, not forwarded later to run
// that request for nobody.
func TestTCPWaitingConnectionEndsWhenItsClientLeaves(t *testing.T) {
	pool := NewPool(time.Minute)
	addr := startTCP(t, &TCP{Pool: pool, Log: quiet})
	for _, reset := range []bool{false, true} {
		failed := pool.Counters().Failed.Load()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		waitFor(t, "the connection to wait", func() bool { return pool.Counters().Waited.Load() == failed+1 })
		if reset {
			_ = c.(*net.TCPConn).SetLinger(0) // close with a reset
		}
		c.Close()
		waitFor(t, "the waiting connection to give up", func() bool { return pool.Counters().Failed.Load() == failed+1 })
	}
}

// The watch for a leaving client reads nothing: what the client sent
// while it waited reaches the worker, and the connection works both ways.
func TestTCPWaitingConnectionKeepsWhatItsClientSent(t *testing.T) {
	pool := NewPool(time.Minute)
	addr := startTCP(t, &TCP{Pool: pool, Log: quiet})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	_, _ = io.WriteString(c, "first\n")
	waitFor(t, "the connection to wait", func() bool { return pool.Counters().Waited.Load() == 1 })
	pool.Add(tcpBackend(t, func(w net.Conn) {
		r := bufio.NewReader(w)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			_, _ = io.WriteString(w, "echo "+line)
		}
	}))
	r := bufio.NewReader(c)
	for _, line := range []string{"first\n", "second\n"} {
		if line != "first\n" {
			_, _ = io.WriteString(c, line)
		}
		if got, err := r.ReadString('\n'); err != nil || got != "echo "+line {
			t.Fatalf("got %q, %v; want %q", got, err, "echo "+line)
		}
	}
	if f := pool.Counters().Failed.Load(); f != 0 {
		t.Fatalf("failed %d", f)
	}
}
