package demo

import (
	"fmt"
	"html"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// Print writes the summary, the events and the timeline.
func (r Report) Print(w io.Writer) {
	fmt.Fprintf(w, "\n== %d requests in %s, %d failed", r.OK+r.Failed, r.Duration.Round(100*time.Millisecond), r.Failed-r.LostInCrash)
	if r.LostInCrash > 0 {
		fmt.Fprintf(w, " (and %d lost with the worker killed by SIGKILL: they were in flight on it, as in any crash; --proxy http retries such requests)", r.LostInCrash)
	}
	if r.Failed > r.LostInCrash {
		fmt.Fprintf(w, " %v", r.FailedByClass)
	}
	fmt.Fprintf(w, "; latency p50 %s, p99 %s, max %s\n", r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond))
	fmt.Fprintln(w, "\nevents:")
	for _, e := range r.Events {
		mark := "ok  "
		if !e.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s  at %5s  %-42s took %s\n", mark, e.At.Round(100*time.Millisecond), e.Name, e.Took.Round(time.Millisecond))
	}
	r.printTimeline(w)
	switch {
	case r.Promised:
		fmt.Fprintf(w, "\nbaton demo: 0 failed requests through %d events (rollouts, a crash, a broken deploy, a master upgrade, a proxy rollout of workers that die on SIGTERM), and every event did what it should.\n", len(r.Events))
	default:
		fmt.Fprintf(w, "\nbaton demo: %d failed requests; every event did what it should: %v\n", r.Failed-r.LostInCrash, r.EventsOK)
	}
}

// printTimeline draws requests/s per second as bars, with p99 and the
// events that began in that second.
func (r Report) printTimeline(w io.Writer) {
	peak := 1
	for _, p := range r.Timeline {
		peak = max(peak, p.RPS)
	}
	marks := map[int][]string{}
	for i, e := range r.Events {
		s := int(e.At / time.Second)
		marks[s] = append(marks[s], fmt.Sprintf("◀ %d %s", i+1, e.Name))
	}
	fmt.Fprintln(w, "\ntimeline (requests/s per second; ◀ an event began):")
	const width = 40
	for i, p := range r.Timeline {
		bar := strings.Repeat("█", p.RPS*width/peak)
		fail := ""
		if p.Failed > 0 {
			fail = fmt.Sprintf(" %d FAILED", p.Failed)
		}
		fmt.Fprintf(w, "  %3ds %-*s %6d  p99 %-8s%s %s\n", i, width, bar, p.RPS, p.P99.Round(10*time.Microsecond), fail, strings.Join(marks[i], " "))
	}
}

// WriteHTML writes a self-contained HTML report: the summary and an SVG
// chart of requests/s and p99 per second with the events marked.
func (r Report) WriteHTML(path string) error {
	var b strings.Builder
	b.WriteString("<!doctype html><meta charset=utf-8><title>baton demo</title>\n")
	b.WriteString("<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:60em}td,th{padding:2px 8px;text-align:left}</style>\n")
	fmt.Fprintf(&b, "<h1>baton demo</h1><p><b>%d requests, %d failed</b> in %s with %d workers; p50 %s, p99 %s, max %s.</p>\n",
		r.OK+r.Failed, r.Failed, r.Duration.Round(100*time.Millisecond), r.Workers, r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond))
	b.WriteString(r.svg())
	b.WriteString("<table><tr><th>#</th><th>at</th><th>event</th><th>took</th><th>result</th></tr>\n")
	for i, e := range r.Events {
		res := "ok"
		if !e.OK {
			res = "FAILED"
		}
		fmt.Fprintf(&b, "<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s: %s</td></tr>\n", i+1, e.At.Round(100*time.Millisecond),
			html.EscapeString(e.Name), e.Took.Round(time.Millisecond), res, html.EscapeString(e.Detail))
	}
	b.WriteString("</table>\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("demo: write %s: %w", path, err)
	}
	return nil
}

// svg is the timeline chart: requests/s (blue), p99 (orange, its own
// scale), failures (red) and the events (grey lines, numbered).
func (r Report) svg() string {
	const w, h, pad = 800.0, 260.0, 40.0
	n := max(len(r.Timeline), 2)
	x := func(i float64) float64 { return pad + i*(w-2*pad)/float64(n-1) }
	peak, p99peak := 1, time.Millisecond
	for _, p := range r.Timeline {
		peak, p99peak = max(peak, p.RPS), max(p99peak, p.P99)
	}
	var rps, lat []string
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f">`, w, h, w, h)
	for i, p := range r.Timeline {
		rps = append(rps, fmt.Sprintf("%.1f,%.1f", x(float64(i)), h-pad-float64(p.RPS)*(h-2*pad)/float64(peak)))
		lat = append(lat, fmt.Sprintf("%.1f,%.1f", x(float64(i)), h-pad-float64(p.P99)*(h-2*pad)/float64(p99peak)))
		if p.Failed > 0 {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="red"/>`, x(float64(i)), h-pad)
		}
	}
	events := append([]Event{}, r.Events...)
	sort.Slice(events, func(i, j int) bool { return events[i].At < events[j].At })
	for i, e := range events {
		ex := x(e.At.Seconds())
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" stroke="#999" stroke-dasharray="4"/><text x="%.1f" y="%.0f" font-size="11">%d</text>`,
			ex, ex, pad, h-pad, ex+2, pad-4, i+1)
	}
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="%s"/>`, strings.Join(rps, " "))
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#ff7f0e" stroke-width="1.5" points="%s"/>`, strings.Join(lat, " "))
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="12" fill="#1f77b4">requests/s (peak %d)</text>`, pad, h-8, peak)
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="12" fill="#ff7f0e">p99 (peak %s)</text>`, w/2, h-8, p99peak.Round(10*time.Microsecond))
	b.WriteString("</svg>\n")
	return b.String()
}
