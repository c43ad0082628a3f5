package loadtest

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Run drives load at opts.Addr until ctx is done, opts.Duration has
// elapsed or opts.Requests requests have been sent, whichever comes
// first, then waits for the requests in flight to finish (each bounded by
// opts.RequestTimeout) and reports what happened.
//
// The error is non-nil only for options that cannot describe a run;
// failed requests are counted in the Result, never returned as an error.
// A run with neither Requests nor Duration needs a ctx that can be done.
func Run(ctx context.Context, opts Options) (Result, error) {
	o, err := opts.withDefaults(ctx)
	if err != nil {
		return Result{}, err
	}
	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if o.Duration > 0 {
		runCtx, cancel = context.WithTimeout(ctx, o.Duration)
	}
	defer cancel()

	r := &runner{opts: o, req: o.requestBytes(), start: time.Now()}
	r.stopped.Store(runCtx.Err() != nil)
	// Workers poll an atomic flag rather than runCtx.Err(), which locks.
	defer context.AfterFunc(runCtx, func() { r.stopped.Store(true) })()

	all := make([]*stats, o.Conns)
	var wg sync.WaitGroup
	for i := range all {
		w := newWorker(i, r)
		all[i] = &w.st
		wg.Add(1)
		go func() { defer wg.Done(); w.run() }()
	}
	wg.Wait()
	return merge(all, time.Since(r.start)), nil
}

// runner is the state shared by a run's workers: immutable settings, the
// stop flag and the request budget.
type runner struct {
	opts    Options
	req     []byte // the rendered request, written as is
	start   time.Time
	stopped atomic.Bool
	claimed atomic.Int64
}

// next reports whether a worker may start another request, claiming one
// from the Requests budget if there is one.
func (r *runner) next() bool {
	if r.stopped.Load() {
		return false
	}
	return r.opts.Requests == 0 || r.claimed.Add(1) <= int64(r.opts.Requests)
}
