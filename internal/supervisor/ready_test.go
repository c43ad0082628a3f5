package supervisor

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/config"
)

func outputReady(o *Options) {
	o.Config.Ready = config.Readiness{Kind: config.ReadyOutput, Output: regexp.MustCompile(`listening`)}
}

// With --ready output:REGEX the launcher watches the output (no notify
// socket) and its READY=1 makes the worker ready, by cause "output".
func TestOutputReadinessGoesThroughTheNotifyPath(t *testing.T) {
	f := newFake()
	h := run(t, f, 2, outputReady)
	for _, l := range f.launched() {
		if l.Notify || l.ReadyOutput == nil || l.ReadyOutput.String() != "listening" {
			t.Fatalf("launch %+v: want the pattern and no notify socket", l)
		}
	}
	st, err := h.reload(ReloadOptions{})
	if err != nil || st.State != RolloutDone {
		t.Fatalf("rollout %+v %v", st, err)
	}
	if g := gens(h.status()); g[2] != 2 {
		t.Fatalf("generations %v", g)
	}
}

func TestOutputReadinessCause(t *testing.T) {
	f := newFake()
	h := run(t, f, 1, outputReady)
	st, err := h.s.Reload(t.Context(), ReloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := h.waitEvent("new worker ready", func(e Event) bool { return e.Kind == KindWorker && e.To == Ready && e.Generation == 2 })
	if e.Cause != CauseOutput || e.Cause.String() != "output" {
		t.Fatalf("ready by %s, want output", e.Cause)
	}
	h.outcome(st)
	if readyCause(SpecFrom(testConfig(1), 1)) != CauseNotified {
		t.Fatal("a notify worker's READY=1 is not cause notified")
	}
}

// A worker whose output never matches misses --ready-timeout: the
// rollout fails and the old worker keeps serving, as with notify.
func TestOutputThatNeverMatchesAbortsTheRollout(t *testing.T) {
	f := newFake()
	h := run(t, f, 2, func(o *Options) { outputReady(o); o.Config.ReadyTimeout = 100 * time.Millisecond })
	f.set(func(f *fakeLauncher) { f.mute[2] = true })
	st, err := h.s.Reload(t.Context(), ReloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h.waitEvent("new worker started", func(e Event) bool { return e.Kind == KindWorker && e.To == Starting && e.Generation == 2 })
	// Status shows why the starting worker is not ready yet, and only for it.
	for _, w := range h.status().Workers {
		if want := map[bool]string{true: "last tcp probe: connection refused"}[w.Generation == 2]; w.NotReady != want {
			t.Fatalf("gen %d %s: not ready %q, want %q", w.Generation, w.State, w.NotReady, want)
		}
	}
	h.advance(100 * time.Millisecond)
	r := h.outcome(st)
	if r.State != RolloutFailed || !strings.Contains(r.Error, "not ready within --ready-timeout 100ms: last tcp probe: connection refused") {
		t.Fatalf("the failure does not say what the process said of its readiness: %+v", r)
	}
	if g := gens(h.status()); g[1] != 2 || countReady(h.status()) != 2 {
		t.Fatalf("old workers not kept: %v", g)
	}
}
