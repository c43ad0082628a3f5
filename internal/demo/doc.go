// Package demo is `baton demo`: one command that shows the whole promise
// under load, measured. It starts a real master (this baton binary, `baton
// run`) with the example server as its workers on a loopback port, drives
// keep-alive load with the project's honest client (internal/loadtest,
// which never retries), and while it runs: rolling restarts, a kill -9 of
// a worker, a broken deploy that must be refused while the old workers
// keep serving, and a master upgrade. It prints a live line, then a
// summary (requests, failed, latency percentiles, each event and its
// duration) and a timeline of requests/s and p99 per second with the
// events marked; --html writes the same timeline as an SVG chart.
//
// Nothing here is simulated: every event goes through the control socket
// or a signal, exactly as an operator's would.
package demo
