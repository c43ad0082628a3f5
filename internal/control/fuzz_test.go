package control

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/supervisor"
)

// Any request to the control API: no panic, and an error answer is one
// JSON error body.
func FuzzControlRequests(f *testing.F) {
	for _, seed := range [][2]string{
		{"GET", "/v1/status"}, {"POST", "/v1/scale?workers=3"}, {"POST", "/v1/scale?workers=-1"},
		{"POST", "/v1/scale?workers=x"}, {"POST", "/v1/stop?force=1"}, {"POST", "/v1/reload?strategy=replace"},
		{"GET", "/v1/logs?n=5&worker=1"}, {"GET", "/v1/logs?n=-1"}, {"GET", "/v1/logs?worker=x"}, {"DELETE", "/v1/status"}, {"GET", "/nosuch"},
	} {
		f.Add(seed[0], seed[1])
	}
	mux := newMux(refusingBackend{err: &supervisor.RefusedError{Cause: supervisor.ErrBusy, Reason: "busy"}})
	f.Fuzz(func(t *testing.T, method, target string) {
		if method == "" || strings.ContainsAny(method, " \r\n\t") || !strings.HasPrefix(target, "/") {
			return
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Method, req.URL, req.RequestURI = method, u, target
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code >= 400 && rec.Code != 404 && rec.Code != 405 {
			var body ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == "" {
				t.Fatalf("%s %s: %d with body %q", method, target, rec.Code, rec.Body)
			}
		}
	})
}

// Any logs query: no panic; a parsed query renders back to itself.
func FuzzLogsQuery(f *testing.F) {
	for _, seed := range []string{"n=5", "n=5&worker=2&follow=1", "n=-1", "worker=x", "n=99999999999999999999", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := parseLogsQuery(v)
		if err != nil {
			return
		}
		again, err := parseLogsQuery(q.values())
		if err != nil || again.Lines != q.Lines || again.Follow != q.Follow || (q.Slot == nil) != (again.Slot == nil) {
			t.Fatalf("%q → %+v → %+v (%v)", raw, q, again, err)
		}
	})
}
