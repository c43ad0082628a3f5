// Command hello is baton's example server, built only on package worker:
// it takes its socket from baton or systemd (the one named "http", or the
// only one), or binds -addr when run alone; reports READY=1 once it
// serves; answers every request with one JSON line naming the process
// that served it; and drains on SIGTERM.
//
//	curl localhost:8080/             {"pid":123,"slot":"0","generation":"1","dir":"/srv/app","version":"42"}
//	curl 'localhost:8080/?sleep=300ms'  the same, 300 ms later (a request to keep in flight)
//
// slot and generation come from BATON_SLOT and BATON_GENERATION, version
// from the file VERSION in the working directory (all empty when absent).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/batonhq/baton/worker"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to bind when no socket is inherited (HOST:PORT or unix:/path)")
	readyDelay := flag.Duration("ready-delay", 0, "wait this long before serving and reporting ready (a slow start)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("pid", os.Getpid())
	if err := run(*addr, *readyDelay, log); err != nil {
		log.Error("hello failed", "err", err)
		os.Exit(1)
	}
}

func run(addr string, readyDelay time.Duration, log *slog.Logger) error {
	ln, err := worker.Listen("http", addr)
	if err != nil {
		return err
	}
	handler, err := newHandler()
	if err != nil {
		return err
	}
	ctx, stop := worker.SignalContext(context.Background())
	defer stop()
	time.Sleep(readyDelay)
	log.Info("serving", "addr", ln.Addr().String())
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	return worker.Serve(ctx, srv, []net.Listener{ln}, worker.Logger(log))
}

// newHandler answers every request with this process's identity, after
// the duration in the query parameter sleep, if any.
func newHandler() (http.Handler, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	version, err := os.ReadFile("VERSION")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	body, err := json.Marshal(struct {
		PID        int    `json:"pid"`
		Slot       string `json:"slot"`
		Generation string `json:"generation"`
		Dir        string `json:"dir"`
		Version    string `json:"version"`
	}{os.Getpid(), os.Getenv("BATON_SLOT"), os.Getenv("BATON_GENERATION"), dir, strings.TrimSpace(string(version))})
	if err != nil {
		return nil, err
	}
	body = append(body, '\n')
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d, err := time.ParseDuration(r.URL.Query().Get("sleep")); err == nil && d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return // the client left
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}), nil
}
