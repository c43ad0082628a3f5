package control

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"

	"github.com/batonhq/baton/internal/supervisor"
)

// Backend is what the control socket drives.
type Backend interface {
	Status(ctx context.Context) (supervisor.Status, error)
	Stop(ctx context.Context, force bool) error
	Reload(ctx context.Context, opts supervisor.ReloadOptions, progress chan<- supervisor.Progress) (supervisor.RolloutStatus, error)
	Scale(ctx context.Context, n int) error
}

// Line is one NDJSON line of a reload stream.
type Line struct {
	Type     string                    `json:"type"` // progress, result, error
	Progress *supervisor.Progress      `json:"progress,omitempty"`
	Result   *supervisor.RolloutStatus `json:"result,omitempty"`
	Error    string                    `json:"error,omitempty"`
}

// ErrorBody is the JSON body of every error answer.
type ErrorBody struct {
	Error   string `json:"error"`
	Refused bool   `json:"refused"`
}

// Serve answers control requests on ln until ctx ends.
func Serve(ctx context.Context, ln net.Listener, b Backend, log *slog.Logger) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		st, err := b.Status(r.Context())
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	mux.HandleFunc("POST /v1/stop", func(w http.ResponseWriter, r *http.Request) {
		force := r.URL.Query().Get("force") == "1"
		if err := b.Stop(r.Context(), force); err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"stopping": true, "force": force})
	})
	mux.HandleFunc("POST /v1/scale", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("workers"))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, ErrorBody{Error: "workers: want a number 1..1024"})
			return
		}
		if err := b.Scale(r.Context(), n); err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"workers": n})
	})
	mux.HandleFunc("POST /v1/reload", func(w http.ResponseWriter, r *http.Request) { reload(w, r, b) })
	srv := &http.Server{Handler: mux, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	err := srv.Serve(peerListener{Listener: ln, log: log})
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func reload(w http.ResponseWriter, r *http.Request, b Backend) {
	opts := supervisor.ReloadOptions{Strategy: r.URL.Query().Get("strategy"), Trigger: "control"}
	progress := make(chan supervisor.Progress, 1024)
	type outcome struct {
		st  supervisor.RolloutStatus
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		st, err := b.Reload(r.Context(), opts, progress)
		done <- outcome{st, err}
	}()
	enc := json.NewEncoder(w)
	started := false
	for {
		select {
		case p, ok := <-progress:
			if !ok {
				progress = nil
				continue
			}
			if !started {
				w.Header().Set("Content-Type", "application/x-ndjson")
				w.WriteHeader(http.StatusOK)
				started = true
			}
			_ = enc.Encode(Line{Type: "progress", Progress: &p})
			http.NewResponseController(w).Flush()
		case o := <-done:
			if o.err != nil && !started {
				writeError(w, o.err)
				return
			}
			if o.err != nil {
				_ = enc.Encode(Line{Type: "error", Error: o.err.Error()})
				return
			}
			for p := range drain(progress) {
				_ = enc.Encode(Line{Type: "progress", Progress: &p})
			}
			_ = enc.Encode(Line{Type: "result", Result: &o.st})
			return
		}
	}
}

// drain yields what is left in a closed (or nil) progress channel.
func drain(ch chan supervisor.Progress) func(func(supervisor.Progress) bool) {
	return func(yield func(supervisor.Progress) bool) {
		if ch == nil {
			return
		}
		for p := range ch {
			if !yield(p) {
				return
			}
		}
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	var refused *supervisor.RefusedError
	switch {
	case errors.As(err, &refused):
		writeJSON(w, http.StatusConflict, ErrorBody{Error: refused.Reason, Refused: true})
	case errors.Is(err, supervisor.ErrStopping):
		writeJSON(w, http.StatusServiceUnavailable, ErrorBody{Error: err.Error()})
	default:
		writeJSON(w, http.StatusInternalServerError, ErrorBody{Error: err.Error()})
	}
}
