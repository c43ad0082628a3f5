package steer

import (
	"net"
	"os"
	"testing"
)

func TestAcceptQueuesCountsWaitingConnections(t *testing.T) {
	ln := listen(t, "tcp", "127.0.0.1:0")
	f, err := ln.File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ino, err := inode(f)
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	q, err := acceptQueues()
	if err != nil {
		t.Fatal(err)
	}
	if q[ino] != 3 {
		t.Fatalf("accept queue of the listener (inode %d): %d, want the 3 connections not accepted yet (%d listeners seen)", ino, q[ino], len(q))
	}
}

func TestHeldCountsOpenAndWaitingConnections(t *testing.T) {
	ln := listen(t, "tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	a, err := ln.Accept() // one open, two waiting
	if err != nil {
		t.Fatal(err)
	}
	conns = append(conns, a)
	socks, err := ReadSockets()
	if err != nil {
		t.Fatal(err)
	}
	if n := socks.Held(os.Getpid(), port, []int{port}); n != 3 {
		t.Fatalf("held: %d, want 1 open and 2 in the accept queue", n)
	}
	if n := socks.Held(os.Getpid(), port+1, []int{port + 1}); n != 0 {
		t.Fatalf("held on another port: %d", n)
	}
}
