package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/logs"
	"github.com/batonhq/baton/internal/supervisor"
)

// Backend is what the control socket drives: the master.
type Backend interface {
	Status(ctx context.Context) (supervisor.Status, error)
	Stop(ctx context.Context, force bool) error
	Reload(ctx context.Context, opts supervisor.ReloadOptions) (supervisor.Started, error)
	Scale(ctx context.Context, n int) error
	// Events is the master's event stream (rollout progress is read from it).
	Events() *supervisor.Bus
	// Upgrade replaces the master (note receives progress lines); after
	// a successful one the server answers and then calls HandOver.
	Upgrade(ctx context.Context, note func(string)) (UpgradeReport, error)
	HandOver()
	// Logs is the ring of recent worker and master lines.
	Logs() *logs.Ring
}

// UpgradeReport is the outcome of a master upgrade.
type UpgradeReport struct {
	OK      bool    `json:"ok"`
	PID     int     `json:"pid"`    // the new master's
	Binary  string  `json:"binary"` // the program started
	Error   string  `json:"error,omitempty"`
	Seconds float64 `json:"seconds"`
	// Stopping: the upgrade was abandoned because the old master began
	// to stop meanwhile; it stops as asked rather than keep serving.
	Stopping bool `json:"stopping,omitempty"`
}

// Line is one NDJSON line of a reload stream.
type Line struct {
	Type    string                    `json:"type"` // event, result; note, upgrade
	Event   *supervisor.Event         `json:"event,omitempty"`
	Result  *supervisor.RolloutStatus `json:"result,omitempty"`
	Note    string                    `json:"note,omitempty"`
	Upgrade *UpgradeReport            `json:"upgrade,omitempty"`
}

// ErrorBody is the JSON body of every error answer.
type ErrorBody struct {
	Error   string `json:"error"`
	Refused bool   `json:"refused"`
}

// progressBuffer is how many unread events a reload stream holds.
const progressBuffer = 1024

// Serve answers control requests on ln until ctx ends; then it closes ln
// and every connection, which is what a client waiting on /v1/wait sees
// as "the master has stopped".
func Serve(ctx context.Context, ln net.Listener, b Backend, log *slog.Logger) error {
	srv := &http.Server{Handler: newMux(b), ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	err := srv.Serve(peerListener{Listener: ln, log: log})
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		// Closed by the server, or the listener by its owner (a master
		// handing over keeps answering the connections it has).
		<-ctx.Done()
		srv.Close()
		return nil
	}
	return err
}

func newMux(b Backend) *http.ServeMux {
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
			writeJSON(w, http.StatusBadRequest, ErrorBody{Error: fmt.Sprintf("workers: want a number 1..%d", config.MaxWorkers)})
			return
		}
		if err := b.Scale(r.Context(), n); err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"workers": n})
	})
	mux.HandleFunc("POST /v1/reload", func(w http.ResponseWriter, r *http.Request) { reload(w, r, b) })
	mux.HandleFunc("POST /v1/upgrade", func(w http.ResponseWriter, r *http.Request) { upgrade(w, r, b) })
	mux.HandleFunc("GET /v1/wait", wait)
	mux.HandleFunc("GET /v1/logs", func(w http.ResponseWriter, r *http.Request) { serveLogs(w, r, b) })
	return mux
}

// wait answers at once and then holds the connection open until the
// master closes it on its way out (or the process is gone).
func wait(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("waiting\n"))
	_ = http.NewResponseController(w).Flush()
	<-r.Context().Done()
}

// reload starts a rollout and streams its steps, read from the event
// stream, then its outcome.
func reload(w http.ResponseWriter, r *http.Request, b Backend) {
	sub := b.Events().Subscribe(progressBuffer)
	defer sub.Close()
	opts := supervisor.ReloadOptions{Strategy: r.URL.Query().Get("strategy"), Trigger: supervisor.TriggerControl}
	started, err := b.Reload(r.Context(), opts)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	send := func(e supervisor.Event) {
		if e.Kind == supervisor.KindRollout && e.Rollout != nil && e.Rollout.ID == started.ID {
			_ = enc.Encode(Line{Type: "event", Event: &e})
		}
	}
	events := sub.C
	for {
		select {
		case e, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			send(e)
			_ = http.NewResponseController(w).Flush()
		case st := <-started.Done:
			for len(events) > 0 {
				send(<-events)
			}
			_ = enc.Encode(Line{Type: "result", Result: &st})
			return
		case <-r.Context().Done():
			return // the client went away; the rollout goes on
		}
	}
}

// upgrade replaces the master, streaming progress notes, then the report;
// once a successful report is written the old master hands over.
func upgrade(w http.ResponseWriter, r *http.Request, b Backend) {
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	started := false
	note := func(text string) {
		if !started {
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.WriteHeader(http.StatusOK)
			started = true
		}
		_ = enc.Encode(Line{Type: "note", Note: text})
		_ = rc.Flush()
	}
	rep, err := b.Upgrade(r.Context(), note)
	if err != nil && !started {
		writeError(w, err)
		return
	}
	if err != nil {
		rep.Error = err.Error()
	}
	if rep.OK {
		b.HandOver() // before the answer: a client's next request reaches the new master
	}
	_ = enc.Encode(Line{Type: "upgrade", Upgrade: &rep})
	_ = rc.Flush()
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with the status that says what kind of error err
// is: 503 when the master is stopping, 409 for any other refusal (both
// with refused=true: nothing changed), else 500.
func writeError(w http.ResponseWriter, err error) {
	var refused *supervisor.RefusedError
	isRefused := errors.As(err, &refused)
	msg := err.Error()
	if isRefused {
		msg = refused.Reason
	}
	switch {
	case errors.Is(err, supervisor.ErrStopping):
		writeJSON(w, http.StatusServiceUnavailable, ErrorBody{Error: msg, Refused: isRefused})
	case isRefused:
		writeJSON(w, http.StatusConflict, ErrorBody{Error: msg, Refused: true})
	default:
		writeJSON(w, http.StatusInternalServerError, ErrorBody{Error: msg})
	}
}
