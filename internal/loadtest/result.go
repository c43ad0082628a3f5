package loadtest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// maxFirstErrors is how many error messages Result.FirstErrors keeps.
const maxFirstErrors = 10

// Result is what a Run measured. Sent == OK + Failed always holds.
type Result struct {
	Sent   int64 // requests attempted, including those whose dial failed
	OK     int64 // complete 2xx responses
	Failed int64 // everything else; never re-sent
	Non2xx int64 // complete responses with a status outside 2xx (part of Failed)

	// Errors counts failures by class, such as "dial: connection refused",
	// "write: broken pipe", "read: EOF", "read: connection reset",
	// "read: malformed response", "timeout" or "status 502".
	Errors map[string]int64
	// FirstErrors holds the earliest failures (at most 10) verbatim, each
	// prefixed with its time since the start and its connection goroutine,
	// for debugging a failed test.
	FirstErrors []string

	// Latency percentiles and maximum over OK requests, measured from the
	// start of the request (including any dial) to the end of its body.
	P50, P90, P99, Max time.Duration

	Elapsed time.Duration // wall time of the whole run
	Conns   int64         // connections successfully dialed
}

// String is a one-line summary, with error classes in sorted order.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sent=%d ok=%d failed=%d non2xx=%d conns=%d elapsed=%v",
		r.Sent, r.OK, r.Failed, r.Non2xx, r.Conns, r.Elapsed.Round(time.Millisecond))
	if r.Elapsed > 0 {
		fmt.Fprintf(&b, " rps=%.0f", float64(r.Sent)/r.Elapsed.Seconds())
	}
	fmt.Fprintf(&b, " p50=%v p90=%v p99=%v max=%v", round(r.P50), round(r.P90), round(r.P99), round(r.Max))
	if len(r.Errors) > 0 {
		classes := make([]string, 0, len(r.Errors))
		for c := range r.Errors {
			classes = append(classes, c)
		}
		slices.Sort(classes)
		b.WriteString(" errors={")
		for i, c := range classes {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s: %d", c, r.Errors[c])
		}
		b.WriteString("}")
	}
	return b.String()
}

// round keeps latencies readable: microseconds, or nanoseconds below 1µs.
func round(d time.Duration) time.Duration {
	if d < time.Microsecond {
		return d
	}
	return d.Round(time.Microsecond)
}

// failure is one recorded failed request.
type failure struct {
	at     time.Duration // since the start of the run
	worker int
	class  string
	msg    string
}

func (f failure) String() string {
	return fmt.Sprintf("+%v conn %d [%s] %s", f.at.Round(time.Microsecond), f.worker, f.class, f.msg)
}

// stats is one worker's tally. Workers never share one, so no locking is
// needed; Run merges them after every worker has returned.
type stats struct {
	sent, ok, failed, non2xx, dials int64
	errs                            map[string]int64
	first                           []failure
	lat                             histogram
}

func (s *stats) fail(f failure) {
	s.failed++
	if s.errs == nil {
		s.errs = make(map[string]int64)
	}
	s.errs[f.class]++
	if len(s.first) < maxFirstErrors {
		s.first = append(s.first, f)
	}
}

// merge combines the workers' tallies into a Result. The earliest
// maxFirstErrors failures overall are among each worker's earliest ones.
func merge(all []*stats, elapsed time.Duration) Result {
	var lat histogram
	var first []failure
	r := Result{Errors: make(map[string]int64), Elapsed: elapsed}
	for _, s := range all {
		r.Sent += s.sent
		r.OK += s.ok
		r.Failed += s.failed
		r.Non2xx += s.non2xx
		r.Conns += s.dials
		for c, n := range s.errs {
			r.Errors[c] += n
		}
		first = append(first, s.first...)
		lat.merge(&s.lat)
	}
	slices.SortStableFunc(first, func(a, b failure) int { return cmp.Compare(a.at, b.at) })
	for _, f := range first[:min(len(first), maxFirstErrors)] {
		r.FirstErrors = append(r.FirstErrors, f.String())
	}
	r.P50 = lat.quantile(0.50)
	r.P90 = lat.quantile(0.90)
	r.P99 = lat.quantile(0.99)
	r.Max = lat.max
	return r
}
