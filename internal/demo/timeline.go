package demo

import (
	"slices"
	"sync"
	"time"
)

// timeline keeps, per second of the run, the requests that succeeded
// among those that began in it, with their latencies, and the requests
// that failed in it: a request in flight when its worker was killed
// counts in the second of the kill, next to its marker, not in the
// second it began.
type timeline struct {
	start time.Time
	mu    sync.Mutex
	secs  []second
	fails []span // every failed request: when it began and ended
}

type span struct{ from, to time.Time }

type second struct {
	ok, failed int
	lat        []time.Duration
}

func newTimeline(start time.Time) *timeline { return &timeline{start: start} }

// record is loadtest's OnOutcome.
func (t *timeline) record(start time.Time, took time.Duration, ok bool) {
	at := start
	if !ok {
		at = start.Add(took)
	}
	i := int(at.Sub(t.start) / time.Second)
	if i < 0 {
		i = 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.secs) <= i {
		t.secs = append(t.secs, second{})
	}
	s := &t.secs[i]
	if ok {
		s.ok++
		s.lat = append(s.lat, took)
	} else {
		s.failed++
		t.fails = append(t.fails, span{start, start.Add(took)})
	}
}

// failedDuring counts the failed requests that were in flight during one
// of the spans: from a SIGKILL until the killed worker was seen gone.
func (t *timeline) failedDuring(spans []span) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, f := range t.fails {
		for _, s := range spans {
			if !f.from.After(s.to) && !f.to.Before(s.from) {
				n++
				break
			}
		}
	}
	return n
}

// point is one second of the timeline, summed up.
type point struct {
	RPS, Failed int
	P99         time.Duration
}

// points sums every second up to now.
func (t *timeline) points() []point {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]point, len(t.secs))
	for i, s := range t.secs {
		out[i] = point{RPS: s.ok + s.failed, Failed: s.failed, P99: percentile(s.lat, 0.99)}
	}
	return out
}

// totals are the whole run's figures.
func (t *timeline) totals() (ok, failed int, p50, p99, maxLat time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var all []time.Duration
	for _, s := range t.secs {
		ok += s.ok
		failed += s.failed
		all = append(all, s.lat...)
	}
	slices.Sort(all)
	if len(all) > 0 {
		maxLat = all[len(all)-1]
	}
	return ok, failed, percentileSorted(all, 0.5), percentileSorted(all, 0.99), maxLat
}

func percentile(lat []time.Duration, q float64) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	return percentileSorted(s, q)
}

func percentileSorted(s []time.Duration, q float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(float64(len(s))*q))]
}
