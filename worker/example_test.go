package worker_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/batonhq/baton/worker"
)

// Run on its own, Listen binds the fallback address; under baton or
// systemd it returns the inherited socket named "http" instead.
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

// Listeners lists every inherited socket; run on its own there are none.
func ExampleListeners() {
	lns, err := worker.Listeners()
	fmt.Println(len(lns), err)
	// Output: 0 <nil>
}

// Without NOTIFY_SOCKET (not under baton or systemd) notifications are
// no-ops.
func ExampleReady() {
	fmt.Println(worker.Ready(), worker.Status("warming up"), worker.Stopping())
	// Output: <nil> <nil> <nil>
}

// A server that drains when its context ends (in a real program, on
// SIGTERM: see SignalContext) and then closes its database.
func ExampleServe() {
	ln, err := worker.Listen("http", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello")
	})}
	go func() {
		resp, err := http.Post("http://"+ln.Addr().String()+"/", "text/plain", nil)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			fmt.Print(string(body))
		}
		stop() // as SIGTERM would
	}()
	err = worker.Serve(ctx, srv, []net.Listener{ln},
		worker.OnShutdown(func(context.Context) error { fmt.Println("database closed"); return nil }),
		worker.OnShutdown(func(context.Context) error { fmt.Println("metrics flushed"); return nil }))
	fmt.Println("drained:", err)
	// Output:
	// hello
	// metrics flushed
	// database closed
	// drained: <nil>
}

// Run drains any server; here a TCP greeter.
func ExampleRun() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	serve := func(ready func()) error {
		ready() // the socket is bound: connections queue from now on
		for {
			c, err := ln.Accept()
			if errors.Is(err, net.ErrClosed) {
				return nil // shutdown closed the listener
			} else if err != nil {
				return err
			}
			go func() { defer c.Close(); _, _ = io.WriteString(c, "hi\n") }()
		}
	}
	shutdown := func(context.Context) error { return ln.Close() }
	ctx, stop := context.WithCancel(context.Background())
	stop()
	fmt.Println(worker.Run(ctx, serve, shutdown))
	// Output: <nil>
}

// Under baton's --watchdog (or systemd's WatchdogSec=) the supervisor
// sets WATCHDOG_USEC; Serve and Run then ping by themselves, and
// WatchdogCheck makes each ping depend on a real check. Run alone, no
// watchdog is on and Watchdog returns at once.
func ExampleWatchdog() {
	interval, err := worker.WatchdogInterval()
	fmt.Println(interval, err)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	db := func(ctx context.Context) error { return nil } // e.g. a SELECT 1 on the database
	fmt.Println(worker.Watchdog(ctx, db))
	// Output:
	// 0s <nil>
	// <nil>
}
