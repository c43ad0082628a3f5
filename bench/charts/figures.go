package main

// The figures behind every chart in BENCHMARKS.md: this file is the only
// place a chart's numbers live, one dataset per table, each field one of
// the table's columns in the table's own units.
//
// To update a chart after re-running a benchmark:
//
//  1. put the new figures in the table in BENCHMARKS.md and in the dataset
//     below that names that table (copy them: the charts compute nothing
//     the table does not show);
//  2. from the repository root, run: go run ./bench/charts
//  3. commit this file together with the rewritten bench/charts/*.svg.
//
// go test ./bench/charts fails while a committed .svg differs from what
// these figures draw, so a chart cannot silently go stale.

// reloads is "Failed requests over 20 reloads" (bench/compare.sh).
var reloads = reloadFigures{
	Reloads: 20,
	Runs: []failedRun{
		// setup, app, requests, failed
		{"baton, inherited socket", "examples/hello", 182463, 0},
		{"baton --proxy http", "Node app, server.close()", 137584, 0},
		{"PM2 7 cluster, pm2 reload", "the same Node app, 2 instances", 223916, 111},
	},
}

// throughput is "Throughput and p99" (bench/compare.sh).
var throughput = throughputFigures{
	// setup, requests/s, p99 ms, × direct, target (× direct; 0 = none:
	// another program, drawn as a reference)
	Direct: rate{"direct (hello -addr)", 40884, 7.28, 1.00, 0},
	Setups: []rate{
		{"baton, inherited socket", 41756, 9.61, 1.02, 0.98},
		{"baton --proxy tcp, steered", 42557, 8.82, 1.04, 0.85},
		{"baton --proxy tcp --steer off", 20437, 8.15, 0.50, 0.85},
		{"baton --proxy http", 17194, 10.98, 0.42, 0.6},
		{"nginx proxy_pass (reference)", 19638, 10.12, 0.48, 0},
		{"HAProxy, mode http (reference)", 20636, 8.48, 0.50, 0},
	},
}

// footprint is "The master's footprint and rollout time by worker count"
// (bench/footprint.sh).
var footprint = footprintFigures{
	TargetRSSMB:   16,
	TargetWorkers: 64,
	Rows: []footprintRow{
		// workers, master RSS MB a second after 3 rollouts and a
		// `baton status` (the table's "RSS after": the highest of its RSS
		// columns but at 256), OS threads
		{1, 11.1, 10},
		{4, 11.5, 10},
		{16, 12.4, 10},
		{64, 14.2, 10},
		{256, 20.4, 11},
	},
	// OS threads the same script measured before the master waited on
	// pidfds (one thread blocked in wait4 per worker), from the bullet
	// under the table. Drop this once it stops being news.
	ThreadsBefore: map[int]int{64: 72, 256: 265},
	// The master's RSS after the rollouts, the same script before it
	// trimmed its binary's pages, from the paragraph under the table.
	RSSBefore: map[int]float64{1: 16.4, 4: 17.2, 16: 20.2, 64: 23.5, 256: 36.0},
}

// drain is the e2e row of "Draining: package worker against plain
// http.Server.Shutdown".
var drain = drainFigures{
	Test:     "TestLibraryDrainVersusPlainShutdownUnderRollouts",
	Drains:   40,
	Requests: 32000, // about, a run
	// failed requests, one figure a run
	PlainShutdown: []int{231, 324},
	WorkerServe:   []int{0, 0},
}

// upgrades is the Go benchmark table of "Master upgrades under load":
// the longest time with no response, median and range over the runs.
var upgrades = upgradeFigures{
	Runs:        5,
	PerRun:      20,
	Upgrades:    140, // every upgrade measured, Go benchmark and wrk
	Failed:      0,   // failed requests over those upgrades
	TargetGapMs: 50,
	Gaps: []gap{
		// what, median ms, low ms, high ms, target applies
		{"during 20 master upgrades", 50.5, 4.6, 94.1, true},
		{"at rest, just before, as long", 23.5, 3.5, 47.5, false},
		{"during 20 rollouts", 7.2, 4.7, 17.9, false},
	},
}

type reloadFigures struct {
	Reloads int
	Runs    []failedRun
}

type failedRun struct {
	Setup, App       string
	Requests, Failed int
}

type throughputFigures struct {
	Direct rate
	Setups []rate
}

type rate struct {
	Setup  string
	RPS    int
	P99ms  float64
	Ratio  float64 // × direct, as the table rounds it
	Target float64
}

type footprintFigures struct {
	TargetRSSMB   float64
	TargetWorkers int
	Rows          []footprintRow
	ThreadsBefore map[int]int // by worker count
	RSSBefore     map[int]float64
}

type footprintRow struct {
	Workers int
	RSSMB   float64
	Threads int
}

type drainFigures struct {
	Test                       string
	Drains, Requests           int
	PlainShutdown, WorkerServe []int
}

type upgradeFigures struct {
	Runs, PerRun, Upgrades, Failed int
	TargetGapMs                    float64
	Gaps                           []gap
}

type gap struct {
	What           string
	Median, Lo, Hi float64
	TargetApplies  bool
}
