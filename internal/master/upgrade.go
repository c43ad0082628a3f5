package master

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/batonhq/baton/internal/admin"
	"github.com/batonhq/baton/internal/control"
	"github.com/batonhq/baton/internal/proc"
	"github.com/batonhq/baton/internal/supervisor"
	"github.com/batonhq/baton/internal/wire"
)

// ErrUpgrading: a master upgrade is running; one at a time.
var ErrUpgrading = errors.New("a master upgrade is running")

// errStopBegan: a stop of the old master began during the upgrade, which
// is abandoned (the new master would outlive the stop).
var errStopBegan = errors.New("this master began to stop: the new master was killed and the upgrade abandoned")

// upgradeMargin is added to --ready-timeout for how long the new master
// may take to report ready: its own start comes before its workers'.
const upgradeMargin = 10 * time.Second

// UpgradeReport is the outcome of a master upgrade.
type UpgradeReport = control.UpgradeReport

// Upgrade replaces this master with a new one started from its binary
// path (resolved now: it may hold a new baton) with the same arguments,
// passing every listening socket and the control socket. It returns once
// the new master's workers are all ready (OK: call HandOver) or the new
// master failed, was killed, and this master goes on as before. note
// receives progress lines. It refuses (a *supervisor.RefusedError) while
// stopping, during a rollout, or while another upgrade runs.
func (m *Master) Upgrade(ctx context.Context, note func(string)) (UpgradeReport, error) {
	if !m.upgrading.CompareAndSwap(false, true) {
		m.admin.metrics.Upgrade(admin.ResultRefused)
		return UpgradeReport{}, &supervisor.RefusedError{Cause: ErrUpgrading, Reason: ErrUpgrading.Error() + ": one at a time"}
	}
	m.upgradeRun.Lock()
	rep, err := m.upgrade(ctx, note)
	m.upgradeRun.Unlock()
	if err != nil {
		m.admin.metrics.Upgrade(admin.ResultRefused)
	}
	if err != nil || !rep.OK {
		m.upgradingTo.Store(0)
		m.upgrading.Store(false)
	}
	return rep, err
}

func (m *Master) upgrade(ctx context.Context, note func(string)) (UpgradeReport, error) {
	stopBegun, unwatch := m.watchStop()
	defer unwatch()
	st, err := m.status(ctx)
	if err != nil {
		return UpgradeReport{}, err
	}
	switch {
	case st.Phase.Stopping():
		return UpgradeReport{}, &supervisor.RefusedError{Cause: supervisor.ErrStopping, Reason: supervisor.ErrStopping.Error()}
	case st.Rollout != nil && st.Rollout.State == supervisor.RolloutRunning:
		return UpgradeReport{}, &supervisor.RefusedError{Cause: supervisor.ErrBusy, Reason: fmt.Sprintf("rollout %d is running: upgrade after it ends", st.Rollout.ID)}
	}
	start := time.Now()
	rep := UpgradeReport{Binary: m.exe}
	m.sd.upgradeBegins()
	h, files, err := m.handoverRecord(st)
	if err != nil {
		rep.Error = err.Error()
		return rep, nil
	}
	defer closeFiles(files)
	rec, err := h.Encode()
	if err == nil {
		note(fmt.Sprintf("checking the new binary %s (%s)", m.exe, UpgradeCheckArg))
		err = m.checkNew(ctx, rec)
	}
	if err != nil {
		return m.upgradeFailedWith(rep, err), nil
	}
	child, ready, err := m.startNew(rec, files)
	if err != nil {
		return m.upgradeFailedWith(rep, err), nil
	}
	rep.PID = child.Process.Pid
	m.upgradingTo.Store(int64(rep.PID))
	note(fmt.Sprintf("started new master pid %d from %s", rep.PID, m.exe))
	m.log.Info("upgrade: new master started", "pid", rep.PID, "binary", m.exe)
	if err := m.waitNew(child, ready, stopBegun); err != nil {
		rep.Stopping = errors.Is(err, errStopBegan)
		return m.upgradeFailedWith(rep, err), nil
	}
	rep.OK, rep.Seconds = true, time.Since(start).Seconds()
	note(fmt.Sprintf("new master pid %d is ready: the old master (pid %d) drains its workers and exits", rep.PID, os.Getpid()))
	m.log.Info("upgrade: new master ready, handing over", "pid", rep.PID, "seconds", rep.Seconds)
	return rep, nil
}

// upgradeFailedWith records a failed upgrade: the old master goes on
// (or, when it began to stop meanwhile, stops as asked).
func (m *Master) upgradeFailedWith(rep UpgradeReport, err error) UpgradeReport {
	m.upgradeFailed.Add(1)
	m.admin.metrics.Upgrade(admin.ResultFailed)
	rep.Error = err.Error()
	if m.notifyDir != "" { // a new master killed while starting left its own
		proc.SweepNotifyDirs(filepath.Dir(m.notifyDir))
	}
	if rep.Stopping { // systemd has heard STOPPING=1: no READY=1 now
		m.log.Warn("upgrade abandoned: this master is stopping", "pid", rep.PID, "reason", rep.Error)
		return rep
	}
	m.sd.upgradeFailed(rep.Error)
	m.log.Error("upgrade failed: the old master keeps serving", "pid", rep.PID, "reason", rep.Error)
	return rep
}

// handoverRecord is the record for the new master and the descriptors it
// lists, in order after the ready pipe; the caller closes them.
func (m *Master) handoverRecord(st supervisor.Status) (wire.Handover, []*os.File, error) {
	ctlF, lockF, err := m.ctl.Files()
	if err != nil {
		return wire.Handover{}, nil, fmt.Errorf("upgrade: %w", err)
	}
	files := []*os.File{ctlF, lockF}
	h := wire.Handover{Version: wire.HandoverVersion(), From: os.Getpid(), Control: m.ctl.Path(),
		ControlFD: wire.FD(1), LockFD: wire.FD(2), Generation: st.LastGen, Rollouts: st.Rollouts, Upgrades: m.upgrades}
	for i, s := range m.socks {
		files = append(files, s.File)
		h.Sockets = append(h.Sockets, wire.HandoverSocket{Name: s.Name, Network: s.Network, Address: m.cfg.Listen[i].Address, FD: wire.FD(len(files))})
	}
	if st.Rollout != nil {
		h.LastRollout, _ = json.Marshal(st.Rollout)
	}
	for c, n := range st.Recycled {
		if h.Recycled == nil {
			h.Recycled = map[string]int{}
		}
		h.Recycled[c.String()] = n
	}
	files = m.handoverAdmin(&h, files)
	return h, files, nil
}

// closeFiles closes the descriptors made for the hand-over: the control
// listener's duplicate (the lock and the sockets stay this master's).
func closeFiles(files []*os.File) { _ = files[0].Close() }

// startNew starts the new master with the hand-over record rec and the
// descriptors it lists, behind the ready pipe.
func (m *Master) startNew(rec string, files []*os.File) (*exec.Cmd, *os.File, error) {
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("upgrade: ready pipe: %w", err)
	}
	defer readyW.Close()
	cmd := &exec.Cmd{Path: m.exe, Args: m.args, Dir: m.cwd, ExtraFiles: append([]*os.File{readyW}, files...),
		Env: append(childEnv(), wire.EnvHandover+"="+rec), Stdout: m.opts.Stdout, Stderr: m.opts.Stderr}
	if err := cmd.Start(); err != nil {
		readyR.Close()
		return nil, nil, fmt.Errorf("upgrade: start %s: %w", m.exe, err)
	}
	return cmd, readyR, nil
}

// watchStop returns a channel closed once a stop of this master begins
// (SIGTERM, `baton stop`), and the function that ends the watch.
func (m *Master) watchStop() (<-chan struct{}, func()) {
	sub := m.bus.Subscribe(64)
	begun := make(chan struct{})
	go func() {
		closed := false
		for e := range sub.C { // read to the end: a full buffer would count as dropped events
			if !closed && e.Kind == supervisor.KindPhase && e.Phase.Stopping() {
				close(begun)
				closed = true
			}
		}
	}()
	return begun, sub.Close
}

// waitNew waits for the new master's answer on the ready pipe; on any
// failure, or when a stop of this master begins meanwhile (the new master
// would outlive it), it kills the new master (its workers die with it)
// and says why.
func (m *Master) waitNew(child *exec.Cmd, ready *os.File, stopBegun <-chan struct{}) error {
	defer ready.Close()
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	timeout := m.cfg.ReadyTimeout + upgradeMargin
	_ = ready.SetReadDeadline(time.Now().Add(timeout))
	type answer struct {
		line string
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		line, err := bufio.NewReader(ready).ReadString('\n')
		answered <- answer{strings.TrimSpace(line), err}
	}()
	var a answer
	select {
	case a = <-answered:
	case <-stopBegun:
		_ = syscall.Kill(child.Process.Pid, syscall.SIGKILL)
		<-exited
		return errStopBegan
	}
	line, rerr := a.line, a.err
	if line == wire.HandoverReady {
		go func() { <-exited }() // reap it if it ends before this master does
		return nil
	}
	_ = syscall.Kill(child.Process.Pid, syscall.SIGKILL)
	werr := <-exited
	switch {
	case strings.HasPrefix(line, "error:"):
		return fmt.Errorf("the new master refused to take over: %s", strings.TrimSpace(strings.TrimPrefix(line, "error:")))
	case errors.Is(rerr, os.ErrDeadlineExceeded):
		return fmt.Errorf("the new master was not ready within %s (--ready-timeout + %s): killed", timeout, upgradeMargin)
	}
	return fmt.Errorf("the new master exited before it was ready (%v)", werr)
}

// HandOver ends this master after a successful upgrade: it stops taking
// control connections at once (so that from now on every client reaches
// the new master; requests already taken are answered), drains its
// workers and exits, leaving the sockets, the control socket and the name
// to the new master.
func (m *Master) HandOver() {
	m.handedOver.Store(true)
	m.sd.handOver(int(m.upgradingTo.Load()))
	m.closeAdmin() // the new master serves it now; this one's stop must not fail /readyz
	_ = m.ctl.Listener.Close()
	go func() {
		m.drainProxy() // proxy mode: finish the connections this master took
		_ = m.sup.Stop(context.Background(), false)
	}()
}

// upgradeOnSignal runs an upgrade asked for by SIGHUP.
func (m *Master) upgradeOnSignal(ctx context.Context) {
	rep, err := m.Upgrade(ctx, func(line string) { m.log.Info("upgrade", "step", line) })
	switch {
	case err != nil:
		m.log.Warn("SIGHUP: upgrade refused", "reason", err.Error())
	case rep.OK:
		m.HandOver()
	}
}
