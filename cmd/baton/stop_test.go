package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fakeMaster answers the control API on a unix socket as a master would
// in the last moments of a stop: status and stop with code, and /v1/wait
// by going away (its socket removed, as a master's is when it exits).
func fakeMaster(t *testing.T, statusCode, stopCode int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	answer := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			switch code {
			case http.StatusOK:
				_, _ = w.Write([]byte(`{"pid":4242,"stop_timeout_seconds":1}`))
			case http.StatusServiceUnavailable:
				_, _ = w.Write([]byte(`{"error":"the master is stopping","refused":true}`))
			default:
				_, _ = w.Write([]byte(`{"error":"a rollout is running","refused":true}`))
			}
		}
	}
	srv := &http.Server{}
	mux := http.NewServeMux()
	mux.Handle("GET /v1/status", answer(statusCode))
	mux.Handle("POST /v1/stop", answer(stopCode))
	mux.HandleFunc("GET /v1/wait", func(w http.ResponseWriter, _ *http.Request) {
		os.Remove(path)
		ln.Close()
		w.Header().Set("Connection", "close")
	})
	srv.Handler = mux
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return path
}

// TestStopOfAMasterAlreadyStoppingSucceeds: `baton stop` racing another
// stop (or a SIGTERM) finds the master stopping already, answering 503 to
// its status or its stop request: that stop is what was asked, so it
// waits for the master to exit and succeeds, as `systemctl stop` does,
// instead of exiting 4 "refused". Another refusal still exits 4.
func TestStopOfAMasterAlreadyStoppingSucceeds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, c := range []struct {
		name         string
		status, stop int
		wantCode     int // 0: success
	}{
		{"status answered stopping", http.StatusServiceUnavailable, http.StatusOK, 0},
		{"stop answered stopping", http.StatusOK, http.StatusServiceUnavailable, 0},
		{"stop refused for another reason", http.StatusOK, http.StatusConflict, exitRefused},
	} {
		path := fakeMaster(t, c.status, c.stop)
		err := runStop(ctx, target{path: path, answer: 5 * time.Second}, false, false, 10*time.Second)
		var ee *exitError
		switch {
		case c.wantCode == 0 && err != nil:
			t.Errorf("%s: %v, want success", c.name, err)
		case c.wantCode != 0 && (!errors.As(err, &ee) || ee.code != c.wantCode):
			t.Errorf("%s: %v, want exit %d", c.name, err, c.wantCode)
		}
	}
}
