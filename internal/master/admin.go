package master

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/batonhq/baton/internal/admin"
	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/sockets"
	"github.com/batonhq/baton/internal/wire"
)

// metricsBuffer is how many events the metrics may fall behind by.
const metricsBuffer = 8192

// readyzTimeout bounds the status snapshot /readyz waits for.
const readyzTimeout = 2 * time.Second

// adminSide is the master's admin endpoint (--admin) and the stop it
// delays (--shutdown-delay). All zero when --admin is off.
type adminSide struct {
	metrics *admin.Metrics
	sock    *sockets.Socket
	done    <-chan struct{}

	mu     sync.Mutex
	srv    *http.Server
	served chan struct{} // closed when srv.Serve has returned
	closed bool          // closeAdmin ran: serve no more

	stopBegun atomic.Bool // a stop was asked for: /readyz fails from now on
	skip      chan struct{}
	skipOnce  sync.Once
	delayOver chan struct{}
}

// adminListen is the admin socket as a --listen.
func adminListen(a config.Admin) config.Listen {
	return config.Listen{Name: "admin", Network: a.Network, Address: a.Address}
}

// bindAdmin binds --admin, or takes over the old master's socket when it
// is the same address.
func (m *Master) bindAdmin() error {
	if !m.cfg.Admin.On() {
		return nil
	}
	l := adminListen(m.cfg.Admin)
	var err error
	if h := m.handover; h != nil && h.Admin != nil && h.Admin.Network == l.Network && h.Admin.Address == l.Address {
		m.admin.sock, err = sockets.Adopt(l, os.NewFile(uintptr(h.Admin.FD), "admin"))
	} else {
		if h != nil && h.Admin != nil {
			_ = syscall.Close(h.Admin.FD) // another address now: the old one closes with the old master
		}
		m.admin.sock, err = sockets.Bind(l)
	}
	if err != nil {
		return fmt.Errorf("--admin: %w", err)
	}
	return nil
}

// startMetrics builds the metrics, seeded from the old master's counters,
// and subscribes them to the event stream.
func (m *Master) startMetrics() {
	if !m.cfg.Admin.On() {
		return
	}
	m.admin.metrics = admin.NewMetrics(m.status)
	if h := m.handover; h != nil {
		m.admin.metrics.Seed(h.Metrics)
		m.admin.metrics.Upgrade(admin.ResultDone)
	}
	sub := m.bus.Subscribe(metricsBuffer)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range sub.C {
			m.admin.metrics.Observe(e)
		}
	}()
	m.admin.done = done
	m.admin.skip, m.admin.delayOver = make(chan struct{}), make(chan struct{})
}

// serveAdmin serves the admin endpoint once ready closes: at once for a
// fresh master; a new master of an upgrade waits for its workers, so that
// /readyz never fails because of an upgrade.
func (m *Master) serveAdmin(ready, stop <-chan struct{}) {
	if m.admin.sock == nil {
		return
	}
	select {
	case <-ready:
	case <-stop:
		return
	}
	ln, err := net.FileListener(m.admin.sock.File)
	if err != nil {
		m.log.Error("--admin: serve", "err", err)
		return
	}
	a := &m.admin
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		ln.Close()
		return
	}
	srv, served := &http.Server{Handler: admin.Handler(a.metrics, m.readiness), ReadHeaderTimeout: 10 * time.Second}, make(chan struct{})
	a.srv, a.served = srv, served
	m.log.Info("admin endpoint", "address", m.cfg.Admin.String(), "paths", "/metrics /healthz /readyz")
	go func() {
		defer close(served)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("--admin: serve", "err", err)
		}
	}()
}

// closeAdmin stops serving the admin endpoint (the socket stays open: a
// new master may serve it now).
func (m *Master) closeAdmin() {
	a := &m.admin
	a.mu.Lock()
	a.closed = true
	srv, served := a.srv, a.served
	a.mu.Unlock()
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	<-served
}

// releaseAdmin closes the admin socket, or leaves it to the new master.
func (m *Master) releaseAdmin() {
	switch {
	case m.admin.sock == nil:
	case m.handedOver.Load():
		m.admin.sock.Release()
	default:
		m.admin.sock.Close()
	}
}

// readiness is /readyz: ready while a worker is ready and no stop began.
func (m *Master) readiness() (bool, string) {
	if m.admin.stopBegun.Load() {
		return false, "stopping"
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyzTimeout)
	defer cancel()
	st, err := m.sup.Status(ctx)
	switch {
	case err != nil:
		return false, "the master does not answer: " + err.Error()
	case st.Phase.Stopping():
		return false, "stopping"
	case st.ReadyCount() == 0:
		return false, "no worker is ready"
	}
	return true, ""
}

// delayStop takes a graceful stop when --shutdown-delay is set: /readyz
// fails at once, and draining begins once the delay is over or at a second
// stop, whichever comes first. It reports whether it took the request
// (false: no delay configured, or draining already began).
func (m *Master) delayStop() bool {
	a := &m.admin
	if m.cfg.ShutdownDelay <= 0 || a.metrics == nil || m.handedOver.Load() {
		return false
	}
	if a.stopBegun.CompareAndSwap(false, true) {
		m.log.Info("stopping: /readyz answers 503; draining begins after --shutdown-delay (a second stop skips it)", "delay", m.cfg.ShutdownDelay.String())
		m.sd.send("STOPPING=1")
		go m.afterDelay()
		return true
	}
	select {
	case <-a.delayOver:
		return false
	default:
	}
	a.skipOnce.Do(func() { close(a.skip) })
	return true
}

func (m *Master) afterDelay() {
	t := time.NewTimer(m.cfg.ShutdownDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-m.admin.skip:
		m.log.Info("second stop: --shutdown-delay skipped, draining now")
	}
	close(m.admin.delayOver)
	_ = m.sup.Stop(context.Background(), false)
}

// handoverAdmin adds the admin socket and the counters to the record.
func (m *Master) handoverAdmin(h *wire.Handover, files []*os.File) []*os.File {
	h.Metrics = m.admin.metrics.Counters()
	if m.admin.sock == nil {
		return files
	}
	files = append(files, m.admin.sock.File)
	h.Admin = &wire.HandoverSocket{Name: "admin", Network: m.cfg.Admin.Network, Address: m.cfg.Admin.Address, FD: wire.FD(len(files))}
	return files
}

// adminReady is when the admin endpoint starts serving.
func (m *Master) adminReady() <-chan struct{} {
	if m.handover != nil {
		return m.sup.AllReady()
	}
	now := make(chan struct{})
	close(now)
	return now
}

// adminAddr is the admin endpoint's bound address, "" when off.
func (m *Master) adminAddr() string {
	if m.admin.sock == nil {
		return ""
	}
	if m.admin.sock.Network == "unix" {
		return "unix:" + m.admin.sock.Addr
	}
	return m.admin.sock.Addr
}
