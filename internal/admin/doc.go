// Package admin is the master's admin HTTP endpoint (--admin ADDR):
// /metrics in Prometheus text format, fed by the supervisor's event
// stream, /healthz (200 while the master runs) and /readyz (200 while at
// least one worker is ready and no stop has begun, for load balancers and
// Kubernetes readiness probes).
//
// Metrics holds the counters and histograms; it observes events and never
// asks the supervisor for anything but a status snapshot at scrape time
// (workers by state). Its counters are carried across a master upgrade
// (Counters, Seed) so that rates stay continuous.
package admin
