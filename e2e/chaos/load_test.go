package chaos

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/loadtest"
)

// span is a stretch of time, both ends included.
type span struct{ from, to time.Time }

func (s span) overlaps(o span) bool { return !s.from.After(o.to) && !s.to.Before(o.from) }

// chaosLoad is a never-retrying load that can be paused (while a test
// measures the master at rest) and resumed; it sums up every run and
// remembers when each failed request was in flight.
type chaosLoad struct {
	t    *testing.T
	opts loadtest.Options

	mu       sync.Mutex
	failures []span
	total    loadtest.Result
	cancel   context.CancelFunc
	done     chan loadtest.Result
}

func newChaosLoad(t *testing.T, opts loadtest.Options) *chaosLoad {
	l := &chaosLoad{t: t, opts: opts, total: loadtest.Result{Errors: map[string]int64{}}}
	l.opts.OnOutcome = func(start time.Time, took time.Duration, ok bool) {
		if !ok {
			l.mu.Lock()
			l.failures = append(l.failures, span{start, start.Add(took)})
			l.mu.Unlock()
		}
	}
	return l
}

// start begins a run (the load must not be running).
func (l *chaosLoad) start() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan loadtest.Result, 1)
	l.mu.Lock()
	l.cancel, l.done = cancel, done
	l.mu.Unlock()
	go func() {
		res, err := loadtest.Run(ctx, l.opts)
		if err != nil {
			l.t.Errorf("load: %v", err)
		}
		done <- res
	}()
}

// pause ends the current run (each request in flight finishes) and adds
// its figures to the total.
func (l *chaosLoad) pause() {
	l.mu.Lock()
	cancel, done := l.cancel, l.done
	l.cancel, l.done = nil, nil
	l.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	res := <-done
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total.Sent += res.Sent
	l.total.OK += res.OK
	l.total.Failed += res.Failed
	l.total.Non2xx += res.Non2xx
	for c, n := range res.Errors {
		l.total.Errors[c] += n
	}
	if len(l.total.FirstErrors) < 10 {
		l.total.FirstErrors = append(l.total.FirstErrors, res.FirstErrors...)
	}
}

// result is the sum of every run, and the failed requests' spans.
func (l *chaosLoad) result() (loadtest.Result, []span) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total, append([]span(nil), l.failures...)
}
