package admin

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/supervisor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// StatusFunc returns the supervisor's snapshot.
type StatusFunc func(context.Context) (supervisor.Status, error)

// scrapeTimeout bounds the status snapshot a scrape waits for.
const scrapeTimeout = 2 * time.Second

// Restart causes, rollout and upgrade results: the label values.
const (
	RestartCrash        = "crash"
	RestartReadyTimeout = "ready-timeout"
	RestartRollout      = "rollout"
	RestartScale        = "scale"
	RestartWatchdog     = "watchdog"
	RestartMemory       = "memory"
	RestartMaxRequests  = "max-requests"
	RestartMaxLifetime  = "max-lifetime"
	ResultDone          = "done"
	ResultFailed        = "failed"
	ResultRefused       = "refused"
)

// Metrics are the master's Prometheus metrics.
type Metrics struct {
	reg         *prometheus.Registry
	restarts    *prometheus.CounterVec
	rollouts    *prometheus.CounterVec
	upgrades    *prometheus.CounterVec
	killed      prometheus.Counter
	timeToReady prometheus.Histogram
	drain       prometheus.Histogram
	rolloutTime prometheus.Histogram
}

// durationBuckets spans a worker's start or drain and a whole rollout.
var durationBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300}

// NewMetrics builds the metrics; status feeds the workers-by-state gauges
// at each scrape.
func NewMetrics(status StatusFunc) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_worker_restarts_total",
			Help: "Workers started in place of another, by cause: crash, ready-timeout, rollout, scale, and the recycles: watchdog, memory, max-requests, max-lifetime."}, []string{"cause"}),
		rollouts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_rollouts_total",
			Help: "Rollouts by result: done, failed, refused."}, []string{"result"}),
		upgrades: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "baton_master_upgrades_total",
			Help: "Master upgrades by result: done, failed, refused."}, []string{"result"}),
		killed: prometheus.NewCounter(prometheus.CounterOpts{Name: "baton_workers_killed_total",
			Help: "Workers SIGKILLed because they did not drain within --stop-timeout."}),
		timeToReady: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "baton_worker_ready_seconds",
			Help: "Time from a worker's start to ready.", Buckets: durationBuckets}),
		drain: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "baton_worker_drain_seconds",
			Help: "Time from a worker's stop signal to its exit.", Buckets: durationBuckets}),
		rolloutTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "baton_rollout_duration_seconds",
			Help: "Time a rollout took, done or failed.", Buckets: durationBuckets}),
	}
	for _, c := range []string{RestartCrash, RestartReadyTimeout, RestartRollout, RestartScale,
		RestartWatchdog, RestartMemory, RestartMaxRequests, RestartMaxLifetime} {
		m.restarts.WithLabelValues(c)
	}
	for _, r := range []string{ResultDone, ResultFailed, ResultRefused} {
		m.rollouts.WithLabelValues(r)
		m.upgrades.WithLabelValues(r)
	}
	m.reg.MustRegister(m.restarts, m.rollouts, m.upgrades, m.killed, m.timeToReady, m.drain, m.rolloutTime,
		&poolCollector{status: status}, prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Observe counts what one event says.
func (m *Metrics) Observe(e supervisor.Event) {
	switch e.Kind {
	case supervisor.KindWorker:
		m.worker(e)
	case supervisor.KindRollout:
		if e.Final() && e.Rollout != nil {
			result := ResultDone
			if e.Rollout.State == supervisor.RolloutFailed {
				result = ResultFailed
			}
			m.rollouts.WithLabelValues(result).Inc()
			m.rolloutTime.Observe(e.Rollout.Seconds)
		}
	}
}

func (m *Metrics) worker(e supervisor.Event) {
	switch {
	case e.To == supervisor.Ready:
		m.timeToReady.Observe(e.Took.Seconds())
	case e.To == supervisor.Starting && e.Cause == supervisor.CauseRollout:
		m.restarts.WithLabelValues(RestartRollout).Inc()
	case e.To == supervisor.Starting && e.Cause == supervisor.CauseScale:
		m.restarts.WithLabelValues(RestartScale).Inc()
	case e.To == supervisor.Starting && e.Cause.Recycle():
		m.restarts.WithLabelValues(e.Cause.String()).Inc()
	case e.To == supervisor.Draining && e.Cause == supervisor.CauseReadyTimeout:
		m.restarts.WithLabelValues(RestartReadyTimeout).Inc()
	case e.To == supervisor.Exited:
		m.exited(e)
	}
}

func (m *Metrics) exited(e supervisor.Event) {
	switch e.Cause {
	case supervisor.CauseCrashed:
		m.restarts.WithLabelValues(RestartCrash).Inc()
	case supervisor.CauseKilled:
		m.killed.Inc()
	}
	if e.From == supervisor.Draining {
		m.drain.Observe(e.Took.Seconds())
	}
}

// RolloutRefused counts a rollout that was refused (nothing changed). Like
// Upgrade and Counters, it does nothing on a nil *Metrics (no --admin).
func (m *Metrics) RolloutRefused() {
	if m != nil {
		m.rollouts.WithLabelValues(ResultRefused).Inc()
	}
}

// Upgrade counts a master upgrade's result.
func (m *Metrics) Upgrade(result string) {
	if m != nil {
		m.upgrades.WithLabelValues(result).Inc()
	}
}

// Counters returns every counter's value by "name{label}", for the
// hand-over record of a master upgrade; nil for a nil *Metrics.
func (m *Metrics) Counters() map[string]float64 {
	if m == nil {
		return nil
	}
	out := map[string]float64{}
	families, _ := m.reg.Gather()
	for _, f := range families {
		if f.GetType() != dto.MetricType_COUNTER {
			continue
		}
		for _, mt := range f.GetMetric() {
			if v := mt.GetCounter().GetValue(); v > 0 {
				out[counterKey(f.GetName(), mt.GetLabel())] = v
			}
		}
	}
	return out
}

// Seed adds the counters an old master handed over.
func (m *Metrics) Seed(counters map[string]float64) {
	for key, v := range counters {
		if c := m.counterFor(key); c != nil && v > 0 {
			c.Add(v)
		}
	}
}

func (m *Metrics) counterFor(key string) prometheus.Counter {
	name, label, _ := strings.Cut(strings.TrimSuffix(key, "}"), "{")
	vecs := map[string]*prometheus.CounterVec{"baton_worker_restarts_total": m.restarts,
		"baton_rollouts_total": m.rollouts, "baton_master_upgrades_total": m.upgrades}
	switch {
	case name == "baton_workers_killed_total" && label == "":
		return m.killed
	case vecs[name] != nil && label != "":
		_, value, _ := strings.Cut(label, "=")
		c, err := vecs[name].GetMetricWithLabelValues(value)
		if err != nil {
			return nil
		}
		return c
	}
	return nil
}

func counterKey(name string, labels []*dto.LabelPair) string {
	if len(labels) == 0 {
		return name
	}
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = l.GetName() + "=" + l.GetValue()
	}
	sort.Strings(parts)
	return name + "{" + strings.Join(parts, ",") + "}"
}

// poolCollector reports the pool from a status snapshot at scrape time.
type poolCollector struct{ status StatusFunc }

var (
	workersDesc = prometheus.NewDesc("baton_workers", "Workers by state.", []string{"state"}, nil)
	desiredDesc = prometheus.NewDesc("baton_workers_desired", "The number of workers wanted.", nil, nil)
	genDesc     = prometheus.NewDesc("baton_generation", "The generation new workers get.", nil, nil)
)

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{workersDesc, desiredDesc, genDesc, proxyOpenDesc, proxyRetriesDesc, proxyFailedDesc,
		proxyWaitedDesc, proxyNoWorkerDesc, proxyResponsesDesc, proxyBytesDesc} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	st, err := c.status(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(workersDesc, err)
		return
	}
	counts := map[supervisor.State]int{}
	for _, w := range st.Workers {
		counts[w.State]++
	}
	for _, s := range []supervisor.State{supervisor.Starting, supervisor.Ready, supervisor.Draining} {
		ch <- prometheus.MustNewConstMetric(workersDesc, prometheus.GaugeValue, float64(counts[s]), s.String())
	}
	ch <- prometheus.MustNewConstMetric(desiredDesc, prometheus.GaugeValue, float64(st.Desired))
	ch <- prometheus.MustNewConstMetric(genDesc, prometheus.GaugeValue, float64(st.Generation))
	if st.Proxy != nil {
		collectProxy(ch, st)
	}
}

var (
	proxyOpenDesc      = prometheus.NewDesc("baton_proxy_open", "Connections (tcp) or requests (http) open to workers now.", nil, nil)
	proxyRetriesDesc   = prometheus.NewDesc("baton_proxy_retries_total", "Connections or requests sent again to another worker.", nil, nil)
	proxyFailedDesc    = prometheus.NewDesc("baton_proxy_failed_total", "Requests answered 502/503 or connections closed with no worker.", nil, nil)
	proxyWaitedDesc    = prometheus.NewDesc("baton_proxy_waited_total", "Connections or requests that waited for a ready worker.", nil, nil)
	proxyNoWorkerDesc  = prometheus.NewDesc("baton_proxy_no_worker_total", "Of those, the ones that gave up after --ready-timeout.", nil, nil)
	proxyResponsesDesc = prometheus.NewDesc("baton_proxy_responses_total", "HTTP responses by status class.", []string{"code"}, nil)
	proxyBytesDesc     = prometheus.NewDesc("baton_proxy_bytes_total", "Bytes copied by the tcp proxy, by direction (in: client to worker); connections steered in the kernel are not counted.", []string{"direction"}, nil)
	proxySteeredDesc   = prometheus.NewDesc("baton_proxy_steered_workers", "Workers that take new connections straight on their own listener, steered in the kernel (--proxy tcp).", nil, nil)
)

// collectProxy reports proxy mode's counters (since this master started).
func collectProxy(ch chan<- prometheus.Metric, st supervisor.Status) {
	p := st.Proxy
	var open int64
	for _, w := range st.Workers {
		if w.Proxy != nil {
			open += w.Proxy.Open
		}
	}
	ch <- prometheus.MustNewConstMetric(proxyOpenDesc, prometheus.GaugeValue, float64(open))
	for _, c := range []struct {
		d *prometheus.Desc
		v uint64
	}{{proxyRetriesDesc, p.Retries}, {proxyFailedDesc, p.Failed}, {proxyWaitedDesc, p.Waited}, {proxyNoWorkerDesc, p.NoWorker}} {
		ch <- prometheus.MustNewConstMetric(c.d, prometheus.CounterValue, float64(c.v))
	}
	for _, class := range []string{"1xx", "2xx", "3xx", "4xx", "5xx"} {
		ch <- prometheus.MustNewConstMetric(proxyResponsesDesc, prometheus.CounterValue, float64(p.Responses[class]), class)
	}
	ch <- prometheus.MustNewConstMetric(proxyBytesDesc, prometheus.CounterValue, float64(p.BytesIn), "in")
	ch <- prometheus.MustNewConstMetric(proxyBytesDesc, prometheus.CounterValue, float64(p.BytesOut), "out")
	if p.Kind == "tcp" {
		ch <- prometheus.MustNewConstMetric(proxySteeredDesc, prometheus.GaugeValue, float64(p.SteeredWorkers))
	}
}
