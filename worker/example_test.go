package worker_test

import (
	"context"
	"fmt"
	"net"
	"net/http"

	"github.com/batonhq/baton/worker"
)

// Run on its own, Listen binds the fallback address; under baton or
// systemd it returns the inherited socket instead.
func ExampleListen() {
	ln, err := worker.Listen("http", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	fmt.Println(ln.Addr().Network())
	// Output: tcp
}

// Without NOTIFY_SOCKET (not under baton or systemd) notifications are
// no-ops.
func ExampleReady() {
	fmt.Println(worker.Ready(), worker.Status("warming up"))
	// Output: <nil> <nil>
}

// A server that drains on SIGTERM and then closes its database.
func ExampleServeHTTP() {
	ln, err := worker.Listen("http", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello")
	})}
	ctx, stop := worker.SignalContext(context.Background())
	defer stop()
	// Here the drain starts at once; a real server waits for SIGTERM.
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	err = worker.ServeHTTP(ctx, srv, []net.Listener{ln},
		worker.OnShutdown(func(context.Context) error { fmt.Println("database closed"); return nil }),
		worker.OnShutdown(func(context.Context) error { fmt.Println("metrics flushed"); return nil }))
	fmt.Println("drained:", err)
	// Output:
	// metrics flushed
	// database closed
	// drained: <nil>
}

// Run drains any server: here a TCP echo loop.
func ExampleRun() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	serve := func() error {
		for {
			c, err := ln.Accept()
			if err != nil {
				return nil // listener closed by shutdown
			}
			go func() { defer c.Close(); _, _ = c.Write([]byte("bye\n")) }()
		}
	}
	shutdown := func(context.Context) error { return ln.Close() }
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fmt.Println(worker.Run(ctx, serve, shutdown))
	// Output: <nil>
}
