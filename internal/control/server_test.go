package control

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/batonhq/baton/internal/logs"
	"github.com/batonhq/baton/internal/supervisor"
)

// refusingBackend refuses every change with err.
type refusingBackend struct{ err error }

func (b refusingBackend) Status(context.Context) (supervisor.Status, error) {
	return supervisor.Status{}, b.err
}
func (b refusingBackend) Stop(context.Context, bool) error { return b.err }
func (b refusingBackend) Scale(context.Context, int) error { return b.err }
func (b refusingBackend) Reload(context.Context, supervisor.ReloadOptions) (supervisor.Started, error) {
	return supervisor.Started{}, b.err
}
func (b refusingBackend) Events() *supervisor.Bus { return supervisor.NewBus() }
func (b refusingBackend) Upgrade(context.Context, func(string)) (UpgradeReport, error) {
	return UpgradeReport{}, b.err
}
func (b refusingBackend) HandOver()        {}
func (b refusingBackend) Logs() *logs.Ring { return logs.NewRing(1) }

// A refusal keeps its typed cause through the API: stopping is 503 (it
// once answered 409, because the cause was flattened into a string), any
// other refusal 409, both marked refused.
func TestRefusalsAnswerWithTheirCause(t *testing.T) {
	for _, c := range []struct {
		err     error
		code    int
		refused bool
	}{
		{&supervisor.RefusedError{Cause: supervisor.ErrStopping, Reason: "the master is stopping"}, http.StatusServiceUnavailable, true},
		{&supervisor.RefusedError{Cause: supervisor.ErrBusy, Reason: "rollout 3 is running"}, http.StatusConflict, true},
		{errors.New("boom"), http.StatusInternalServerError, false},
	} {
		mux := newMux(refusingBackend{err: c.err})
		for _, req := range []*http.Request{
			httptest.NewRequest("POST", "/v1/reload", nil),
			httptest.NewRequest("POST", "/v1/scale?workers=3", nil),
			httptest.NewRequest("POST", "/v1/stop", nil),
			httptest.NewRequest("POST", "/v1/upgrade", nil),
		} {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			var body ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("%s: body %q: %v", req.URL, rec.Body, err)
			}
			if rec.Code != c.code || body.Refused != c.refused || body.Error == "" {
				t.Errorf("%s with %v: %d %+v, want %d refused=%v", req.URL, c.err, rec.Code, body, c.code, c.refused)
			}
		}
	}
}
