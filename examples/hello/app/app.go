// Package app is the example server's code, shared by examples/hello and
// by `baton demo`, which runs the same server as its workers.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/batonhq/baton/worker"
)

// Run serves until SIGTERM or SIGINT has drained it: on the socket baton
// or systemd passed (the one named "http", or the only one), else on addr;
// after readyDelay, it reports READY=1.
func Run(addr string, readyDelay time.Duration, log *slog.Logger) error {
	ln, err := worker.Listen("http", addr)
	if err != nil {
		return err
	}
	handler, err := NewHandler()
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

// NewHandler answers every request with this process's identity, after
// the duration in the query parameter sleep, if any.
func NewHandler() (http.Handler, error) {
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
