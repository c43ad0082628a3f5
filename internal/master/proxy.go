package master

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/proc"
	"github.com/batonhq/baton/internal/proxy"
	"github.com/batonhq/baton/internal/sockets"
	"github.com/batonhq/baton/internal/supervisor"
)

// withProxy returns the launcher the supervisor uses: in proxy mode the
// proxy's decorator around inner (private ports, probes, drain before the
// stop signal), with the proxy that will accept on the sockets.
func (m *Master) withProxy(inner proc.Launcher) proc.Launcher {
	if m.cfg.Mode != config.ModeProxy {
		return inner
	}
	m.proxy = proxy.NewServer(proxy.Options{Kind: m.cfg.Proxy, ProxyProtocol: m.cfg.ProxyProtocol,
		Steer: m.cfg.Steer, ReadyWait: m.cfg.ReadyTimeout, Log: m.log})
	if h := m.handover; h != nil {
		seedProxyCounters(m.proxy.Pool.Counters(), h.Metrics)
	}
	return m.proxy.Launcher(inner)
}

// seedProxyCounters adds the old master's proxy counters (as /metrics
// named them in the hand-over record), so that they survive an upgrade.
func seedProxyCounters(c *proxy.Counters, from map[string]float64) {
	for key, v := range map[string]*atomic.Uint64{
		"baton_proxy_retries_total": &c.Retries, "baton_proxy_failed_total": &c.Failed,
		"baton_proxy_waited_total": &c.Waited, "baton_proxy_no_worker_total": &c.NoWorker,
		"baton_proxy_bytes_total{direction=in}": &c.BytesIn, "baton_proxy_bytes_total{direction=out}": &c.BytesOut,
	} {
		v.Add(uint64(from[key]))
	}
	for class := 1; class <= 5; class++ {
		c.Responses[class].Add(uint64(from[fmt.Sprintf("baton_proxy_responses_total{code=%dxx}", class)]))
	}
}

// workerSockets are the sockets workers inherit: none in proxy mode,
// where the master itself accepts on them.
func (m *Master) workerSockets() (names []string, socks []*sockets.Socket) {
	if m.proxy != nil {
		return nil, nil
	}
	return sockets.Names(m.socks), m.socks
}

// startProxy accepts on the sockets: at once for a fresh master (the first
// clients wait for the first ready worker), only once every worker is
// ready for a master that takes over (until then the old one serves, and
// a new master that fails never held a client). A stop closes the pool
// so that nothing waits for a worker that will not come.
func (m *Master) startProxy(ctx context.Context) {
	if m.proxy == nil {
		return
	}
	go m.stopProxyOnDrain(ctx, m.bus.Subscribe(256))
	go m.serveProxy(ctx)
}

func (m *Master) serveProxy(ctx context.Context) {
	if m.ready != nil {
		select {
		case <-m.sup.AllReady():
		case <-ctx.Done():
			return
		}
	}
	if err := m.proxy.Serve(sockets.Files(m.socks)); err != nil {
		m.log.Error("proxy", "err", err)
	}
}

func (m *Master) stopProxyOnDrain(ctx context.Context, sub *supervisor.Subscription) {
	defer sub.Close()
	for {
		select {
		case e, ok := <-sub.C:
			if !ok {
				return
			}
			if e.Kind == supervisor.KindPhase && e.Phase.Stopping() {
				m.proxy.Stop()
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// drainProxy is the old master's side of a hand-over in proxy mode: it
// stops accepting (the new master accepts on the same sockets) and lets
// the connections it took finish, bounded by --drain-timeout, before its
// workers are drained.
func (m *Master) drainProxy() {
	if m.proxy == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.DrainTimeout)
	defer cancel()
	_ = m.proxy.Drain(ctx)
}

// closeProxy ends whatever the proxy still holds, at the end.
func (m *Master) closeProxy() {
	if m.proxy != nil {
		m.proxy.Close()
	}
}

// proxyStatus is the proxy's counters for status; nil in inherit mode.
func (m *Master) proxyStatus() *supervisor.ProxyStatus {
	if m.proxy == nil {
		return nil
	}
	c := m.proxy.Pool.Counters()
	st := &supervisor.ProxyStatus{Kind: m.proxy.Kind().String(), Ready: m.proxy.Pool.Ready(),
		Retries: c.Retries.Load(), Failed: c.Failed.Load(), Waited: c.Waited.Load(), NoWorker: c.NoWorker.Load(),
		BytesIn: c.BytesIn.Load(), BytesOut: c.BytesOut.Load(), Responses: map[string]uint64{}, Steering: m.proxy.Steering(), SteeredWorkers: m.proxy.SteeredWorkers()}
	for class := 1; class <= 5; class++ {
		if n := c.Responses[class].Load(); n > 0 {
			st.Responses[fmt.Sprintf("%dxx", class)] = n
		}
	}
	return st
}
