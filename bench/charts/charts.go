package main

import (
	"fmt"
	"strings"
)

// chart is one SVG file: bench/charts/<Name>.svg, drawn from figures.go.
type chart struct {
	Name   string
	Render func() *canvas
}

// charts lists every chart, in the order BENCHMARKS.md shows them.
func charts() []chart {
	return []chart{
		{"drain", func() *canvas { return drainChart(drain).render() }},
		{"upgrade-gaps", func() *canvas { return upgradeChart(upgrades).render() }},
		{"footprint", func() *canvas { return footprintChart(footprint) }},
		{"throughput", func() *canvas { return throughputChart(throughput).render() }},
		{"reload-failures", func() *canvas { return reloadChart(reloads).render() }},
	}
}

// failedTone is good for nothing failed, bad for any failure.
func failedTone(failed int) tone {
	if failed == 0 {
		return toneGood
	}
	return toneBad
}

func countTicks(v float64) string { return thousands(int(v)) }

func reloadChart(f reloadFigures) barChart {
	ch := barChart{
		Title:    fmt.Sprintf("Failed requests over %d reloads under load", f.Reloads),
		Subtitle: "bench/compare.sh: wrk, 2 threads × 16 keep-alive connections, never retries",
		Axis:     "failed requests (fewer is better)",
		TickText: countTicks,
	}
	var desc []string
	for _, r := range f.Runs {
		ch.Bars = append(ch.Bars, bar{
			Label: r.Setup, Detail: r.App,
			Value: float64(r.Failed), ValueText: thousands(r.Failed),
			Note: reloadNote(r),
			Tone: failedTone(r.Failed),
		})
		desc = append(desc, fmt.Sprintf("%s (%s): %s failed of %s requests", r.Setup, r.App, thousands(r.Failed), thousands(r.Requests)))
	}
	ch.Desc = ch.Title + ". " + strings.Join(desc, "; ") + "."
	return ch
}

// reloadNote puts the failures in proportion; a zero needs no percentage.
func reloadNote(r failedRun) string {
	if r.Failed == 0 {
		return fmt.Sprintf("of %s requests", thousands(r.Requests))
	}
	return fmt.Sprintf("of %s requests: %s %%", thousands(r.Requests), fixed(100*float64(r.Failed)/float64(r.Requests), 3))
}

func throughputChart(f throughputFigures) barChart {
	d := f.Direct
	ch := barChart{
		Title:    "Throughput × direct, and p99",
		Subtitle: "bench/compare.sh: examples/hello, wrk 2 threads × 64 keep-alive connections, median of 3",
		Axis:     "requests/s as a multiple of the app served directly (more is better)",
		TickText: func(v float64) string { return fixed(v, 2) + "×" },
		Ref:      d.Ratio,
		RefText:  fmt.Sprintf("direct = %s (%s req/s, p99 %s ms)", fixed(d.Ratio, 2), thousands(d.RPS), fixed(d.P99ms, 2)),
	}
	desc := []string{fmt.Sprintf("%s: %s requests/s, p99 %s ms", d.Setup, thousands(d.RPS), fixed(d.P99ms, 2))}
	for _, r := range f.Setups {
		if r.Target == 0 { // a reference: another program, no target
			ch.Bars = append(ch.Bars, bar{
				Label: r.Setup, Value: r.Ratio, ValueText: fixed(r.Ratio, 2) + "×",
				Note: fmt.Sprintf("%s req/s, p99 %s ms", thousands(r.RPS), fixed(r.P99ms, 2)),
				Tone: toneNeutral,
			})
			desc = append(desc, fmt.Sprintf("%s: %s× direct, %s requests/s, p99 %s ms",
				r.Setup, fixed(r.Ratio, 2), thousands(r.RPS), fixed(r.P99ms, 2)))
			continue
		}
		verdict, t := "met", toneGood
		if r.Ratio < r.Target {
			verdict, t = "missed", toneBad
		}
		ch.Bars = append(ch.Bars, bar{
			Label: r.Setup, Value: r.Ratio, ValueText: fixed(r.Ratio, 2) + "×",
			Note:   fmt.Sprintf("%s req/s, p99 %s ms · target ≥ %s: %s", thousands(r.RPS), fixed(r.P99ms, 2), fixed(r.Target, 2), verdict),
			Target: r.Target, Tone: t,
		})
		desc = append(desc, fmt.Sprintf("%s: %s× direct (target at least %s, %s), %s requests/s, p99 %s ms",
			r.Setup, fixed(r.Ratio, 2), fixed(r.Target, 2), verdict, thousands(r.RPS), fixed(r.P99ms, 2)))
	}
	ch.Desc = ch.Title + ". " + strings.Join(desc, "; ") + "."
	return ch
}

func drainChart(f drainFigures) barChart {
	ch := barChart{
		Title:    "Draining under rollouts: plain Shutdown against worker.Serve",
		Subtitle: fmt.Sprintf("e2e %s: %d drains a run,\nabout %s requests a run from 32 keep-alive connections of a client that never retries", f.Test, f.Drains, thousands(f.Requests)),
		Axis:     "failed requests in a run (fewer is better)",
		TickText: countTicks,
	}
	var desc []string
	add := func(server string, runs []int) {
		for i, n := range runs {
			ch.Bars = append(ch.Bars, bar{
				Label: server, Detail: fmt.Sprintf("run %d", i+1),
				Value: float64(n), ValueText: thousands(n), Tone: failedTone(n),
			})
			desc = append(desc, fmt.Sprintf("%s, run %d: %s failed", server, i+1, thousands(n)))
		}
	}
	add("plain http.Server.Shutdown", f.PlainShutdown)
	add("worker.Serve", f.WorkerServe)
	ch.Desc = ch.Title + ". " + strings.Join(desc, "; ") + "."
	return ch
}

func upgradeChart(f upgradeFigures) barChart {
	ch := barChart{
		Title: "Master upgrades: the longest time with no response",
		Subtitle: fmt.Sprintf("BenchmarkUpgradesUnderLoad, %d runs of %d upgrades: the bar is the median, the whisker the range.\n%s failed requests over all %d upgrades measured.",
			f.Runs, f.PerRun, thousands(f.Failed), f.Upgrades),
		Axis:     "longest gap with no response, ms (shorter is better)",
		TickText: func(v float64) string { return fixed(v, 0) },
	}
	desc := []string{fmt.Sprintf("%s failed requests over %d upgrades", thousands(f.Failed), f.Upgrades)}
	for _, g := range f.Gaps {
		b := bar{
			Label: g.What, Value: g.Median, Low: g.Lo, High: g.Hi,
			ValueText: fixed(g.Median, 1) + " ms",
			Note:      fmt.Sprintf("range %s–%s ms", fixed(g.Lo, 1), fixed(g.Hi, 1)),
			Tone:      toneNeutral,
		}
		line := fmt.Sprintf("%s: median %s ms, range %s to %s ms", g.What, fixed(g.Median, 1), fixed(g.Lo, 1), fixed(g.Hi, 1))
		if g.TargetApplies {
			verdict := "median under"
			b.Tone, b.Target = toneGood, f.TargetGapMs
			if g.Median >= f.TargetGapMs {
				verdict, b.Tone = "median over", toneBad
			}
			b.Note += fmt.Sprintf(" · target < %s ms: %s", fixed(f.TargetGapMs, 0), verdict)
			line += fmt.Sprintf(" (target under %s ms, %s)", fixed(f.TargetGapMs, 0), verdict)
		}
		ch.Bars = append(ch.Bars, b)
		desc = append(desc, line)
	}
	ch.Desc = ch.Title + ". " + strings.Join(desc, "; ") + "."
	return ch
}
