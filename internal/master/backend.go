package master

import (
	"context"
	"errors"
	"time"

	"github.com/batonhq/baton/internal/control"
	"github.com/batonhq/baton/internal/logs"
	"github.com/batonhq/baton/internal/supervisor"
)

var _ control.Backend = (*Master)(nil)

// trackerWait bounds how long a status waits for the tracker to catch up
// with the supervisor's snapshot.
const trackerWait = time.Second

// Status is what `baton status` shows: the master's status with each
// worker's memory and CPU read from /proc.
func (m *Master) Status(ctx context.Context) (supervisor.Status, error) {
	st, err := m.status(ctx)
	if err == nil {
		m.usage.fill(&st)
	}
	return st, err
}

// status is the supervisor's snapshot with what the master keeps beside
// it: the running or last rollout (from the event stream) and its own
// counters. The master's own readers (systemd's STATUS=, /metrics, an
// upgrade) use it: they need no /proc reading per worker, and must not
// move the CPU % baseline status shows.
func (m *Master) status(ctx context.Context) (supervisor.Status, error) {
	st, err := m.sup.Status(ctx)
	if err != nil {
		return st, err
	}
	wctx, cancel := context.WithTimeout(ctx, trackerWait)
	defer cancel()
	st.Rollout = m.tracker.Rollout(wctx, st.Seq)
	st.Master = &supervisor.MasterStatus{
		Version: m.opts.Version, Upgrades: m.upgrades, UpgradedAt: m.upgradedAt,
		UpgradingTo: int(m.upgradingTo.Load()), UpgradesFailed: int(m.upgradeFailed.Load()), HandedOverBy: m.handedOverBy,
		HandingOver:   int(m.handingOver.Load()),
		Admin:         m.adminAddr(),
		SocketsHealed: m.healer.healed.Load(),
		OutputLost:    m.stdout.Lost() + m.stderr.Lost(),
		EventsDropped: m.bus.Dropped(),
		Containment:   m.contain.String(),
	}
	if m.cfg.RunAs.On() {
		st.Master.RunAs = m.cfg.RunAs.String()
	}
	st.Proxy = m.proxyStatus()
	return st, nil
}

// Stop begins a graceful stop, or with force kills every worker.
// With --shutdown-delay, a graceful stop first fails /readyz for the delay.
func (m *Master) Stop(ctx context.Context, force bool) error {
	if !force && m.delayStop() {
		return nil
	}
	return m.sup.Stop(ctx, force)
}

// Reload starts a rollout, unless a master upgrade runs.
func (m *Master) Reload(ctx context.Context, opts supervisor.ReloadOptions) (supervisor.Started, error) {
	if err := m.refuseWhileUpgrading(); err != nil {
		return supervisor.Started{}, err
	}
	started, err := m.sup.Reload(ctx, opts)
	var refused *supervisor.RefusedError
	if errors.As(err, &refused) {
		m.admin.metrics.RolloutRefused()
	}
	return started, err
}

// Scale changes the number of workers, unless a master upgrade runs.
func (m *Master) Scale(ctx context.Context, n int) error {
	if err := m.refuseWhileUpgrading(); err != nil {
		return err
	}
	if err := checkFDLimit(m.cfg, n); err != nil {
		return &supervisor.RefusedError{Cause: supervisor.ErrInvalid, Reason: err.Error()}
	}
	return m.sup.Scale(ctx, n)
}

func (m *Master) refuseWhileUpgrading() error {
	if m.upgrading.Load() {
		return &supervisor.RefusedError{Cause: supervisor.ErrBusy, Reason: ErrUpgrading.Error() + ": try again once it is done"}
	}
	return nil
}

// Events is the supervisor's event stream.
func (m *Master) Events() *supervisor.Bus { return m.bus }

// Logs is the ring of recent lines `baton logs` reads.
func (m *Master) Logs() *logs.Ring { return m.ring }
