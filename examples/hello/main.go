// Command hello is baton's example server, built only on package worker:
// it takes its socket from baton or systemd (the one named "http", or the
// only one), or binds -addr when run alone; reports READY=1 once it
// serves (and, under baton's --watchdog or systemd's WatchdogSec=,
// WATCHDOG=1 every half interval while it serves); answers every request with one JSON line naming the process
// that served it; and drains on SIGTERM.
//
//	curl localhost:8080/             {"pid":123,"slot":"0","generation":"1","dir":"/srv/app","version":"42"}
//	curl 'localhost:8080/?sleep=300ms'  the same, 300 ms later (a request to keep in flight)
//
// slot and generation come from BATON_SLOT and BATON_GENERATION, version
// from the file VERSION in the working directory (all empty when absent).
package main

import (
	"flag"
	"log/slog"
	"net/http"
	"os"

	"github.com/batonhq/baton/examples/hello/app"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to bind when no socket is inherited (HOST:PORT or unix:/path)")
	readyDelay := flag.Duration("ready-delay", 0, "wait this long before serving and reporting ready (a slow start)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("pid", os.Getpid())
	if err := app.Run(*addr, *readyDelay, log); err != nil {
		log.Error("hello failed", "err", err)
		os.Exit(1)
	}
}

// newHandler is the server's handler (its tests use it).
func newHandler() (http.Handler, error) { return app.NewHandler() }
