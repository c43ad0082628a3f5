package control

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/logs"
	"github.com/batonhq/baton/internal/supervisor"
)

// checkingBackend accepts what the supervisor would accept, checked with
// the same functions (config.CheckWorkers, config.ParseStrategy), and
// remembers what reached it.
type checkingBackend struct {
	scaled   []int
	reloaded []string
	stopped  []bool
}

func (b *checkingBackend) Status(context.Context) (supervisor.Status, error) {
	return supervisor.Status{}, nil
}
func (b *checkingBackend) Stop(_ context.Context, force bool) error {
	b.stopped = append(b.stopped, force)
	return nil
}
func (b *checkingBackend) Scale(_ context.Context, n int) error {
	if err := config.CheckWorkers(n); err != nil {
		return &supervisor.RefusedError{Cause: supervisor.ErrInvalid, Reason: err.Error()}
	}
	b.scaled = append(b.scaled, n)
	return nil
}
func (b *checkingBackend) Reload(_ context.Context, opts supervisor.ReloadOptions) (supervisor.Started, error) {
	if opts.Strategy != "" {
		if _, err := config.ParseStrategy(opts.Strategy); err != nil {
			return supervisor.Started{}, &supervisor.RefusedError{Cause: supervisor.ErrInvalid, Reason: "strategy " + err.Error()}
		}
	}
	b.reloaded = append(b.reloaded, opts.Strategy)
	done := make(chan supervisor.RolloutStatus, 1)
	done <- supervisor.RolloutStatus{ID: 1, State: supervisor.RolloutDone, Trigger: opts.Trigger}
	return supervisor.Started{ID: 1, Done: done}, nil
}
func (b *checkingBackend) Events() *supervisor.Bus { return supervisor.NewBus() }
func (b *checkingBackend) Upgrade(context.Context, func(string)) (UpgradeReport, error) {
	return UpgradeReport{OK: true, PID: 1}, nil
}
func (b *checkingBackend) HandOver()        {}
func (b *checkingBackend) Logs() *logs.Ring { return logs.NewRing(1) }

// Any query of the requests that change something (scale, reload, stop):
// no panic; a change reaches the master only with a valid value, exactly
// the one asked for; every refusal is one line of a JSON error body, and
// a rollout's stream ends with its result.
func FuzzControlDecoders(f *testing.F) {
	for _, seed := range [][2]string{{"scale", "workers=3"}, {"scale", "workers=0"}, {"scale", "workers=1025"},
		{"scale", "workers=+4"}, {"scale", "workers=4&workers=5"}, {"scale", "workers=9999999999999999999"},
		{"reload", "strategy=replace"}, {"reload", "strategy=surge%00"}, {"reload", ""}, {"stop", "force=1"}, {"stop", "force=true"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, route, rawQuery string) {
		if route != "scale" && route != "reload" && route != "stop" {
			return
		}
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		b := &checkingBackend{}
		req := httptest.NewRequest(http.MethodPost, "/v1/"+route, nil)
		req.URL.RawQuery = rawQuery
		rec := httptest.NewRecorder()
		newMux(b).ServeHTTP(rec, req)
		if rec.Code >= 400 {
			var body ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == "" || strings.Contains(body.Error, "\n") {
				t.Fatalf("%s?%s: %d with body %q", route, rawQuery, rec.Code, rec.Body)
			}
		}
		switch route {
		case "scale":
			n, err := strconv.Atoi(q.Get("workers"))
			valid := err == nil && config.CheckWorkers(n) == nil
			if valid != (rec.Code == http.StatusOK) || valid != (len(b.scaled) == 1) || (valid && b.scaled[0] != n) {
				t.Fatalf("scale?%s: %d, the master got %v", rawQuery, rec.Code, b.scaled)
			}
		case "reload":
			_, err := config.ParseStrategy(q.Get("strategy"))
			valid := q.Get("strategy") == "" || err == nil
			if valid != (rec.Code == http.StatusOK) || valid != (len(b.reloaded) == 1) {
				t.Fatalf("reload?%s: %d, the master got %v", rawQuery, rec.Code, b.reloaded)
			}
			if valid && !lastLineIsResult(rec.Body.String()) {
				t.Fatalf("reload?%s: the stream does not end with its result: %q", rawQuery, rec.Body)
			}
		case "stop":
			if rec.Code != http.StatusAccepted || len(b.stopped) != 1 || b.stopped[0] != (q.Get("force") == "1") {
				t.Fatalf("stop?%s: %d, the master got %v", rawQuery, rec.Code, b.stopped)
			}
		}
	})
}

// lastLineIsResult reports whether an NDJSON reload stream ends with a
// result line.
func lastLineIsResult(body string) bool {
	var last Line
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		last = Line{}
		if json.Unmarshal(sc.Bytes(), &last) != nil {
			return false
		}
	}
	return last.Type == "result" && last.Result != nil
}
