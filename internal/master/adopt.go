package master

import (
	"encoding/json"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/control"
	"github.com/batonhq/baton/internal/sockets"
	"github.com/batonhq/baton/internal/supervisor"
	"github.com/batonhq/baton/internal/wire"
)

// takeOver reads the hand-over record of the master this one replaces and
// takes the control socket, the name and the listening sockets it passed
// down. A --listen address it did not pass is bound anew; a socket it
// passed that the configuration no longer lists is closed (it stops
// listening once the old master and its workers are gone).
func (m *Master) takeOver() error {
	ready := os.NewFile(uintptr(wire.HandoverReadyFD), "ready")
	syscall.CloseOnExec(wire.HandoverReadyFD)
	m.ready = ready
	h, err := wire.ParseHandover(m.opts.Handover)
	if err != nil {
		return err
	}
	m.handover = &h
	for _, fd := range append([]int{h.ControlFD, h.LockFD}, socketFDs(h)...) {
		syscall.CloseOnExec(fd)
	}
	path, err := controlPath(m.cfg)
	if err != nil {
		return err
	}
	if path != h.Control {
		return fmt.Errorf("the control socket changed (%s → %s: --name or --control): that needs a full restart", h.Control, path)
	}
	if m.ctl, err = control.Adopt(path, os.NewFile(uintptr(h.ControlFD), "control"), os.NewFile(uintptr(h.LockFD), "lock")); err != nil {
		return err
	}
	if m.socks, m.removedNames, err = adoptSockets(m.cfg.Listen, h.Sockets); err != nil {
		return err
	}
	m.upgrades, m.upgradedAt, m.handedOverBy = h.Upgrades+1, time.Now(), h.From
	m.handingOver.Store(int64(h.From))
	return nil
}

func socketFDs(h wire.Handover) []int {
	out := make([]int, len(h.Sockets))
	for i, s := range h.Sockets {
		out[i] = s.FD
	}
	return out
}

// adoptSockets takes the passed sockets that --listen still names and
// binds the new ones, in --listen order; removed are the names of the
// passed sockets no --listen wants (closed).
func adoptSockets(ls []config.Listen, passed []wire.HandoverSocket) (out []*sockets.Socket, removed []string, err error) {
	used := map[int]bool{}
	fail := func(err error) ([]*sockets.Socket, []string, error) {
		sockets.CloseAll(out)
		return nil, nil, err
	}
	for _, l := range ls {
		var sock *sockets.Socket
		var err error
		if i := findPassed(l, passed); i >= 0 {
			used[i] = true
			sock, err = sockets.Adopt(l, os.NewFile(uintptr(passed[i].FD), l.Name))
		} else {
			sock, err = sockets.Bind(l)
		}
		if err != nil {
			return fail(fmt.Errorf("--listen: %w", err))
		}
		out = append(out, sock)
	}
	for i, p := range passed {
		if !used[i] {
			_ = syscall.Close(p.FD)
			removed = append(removed, p.Name)
		}
	}
	return out, removed, nil
}

func findPassed(l config.Listen, passed []wire.HandoverSocket) int {
	for i, p := range passed {
		if p.Name == l.Name && p.Network == l.Network && p.Address == l.Address {
			return i
		}
	}
	return -1
}

// seedFromHandover gives the tracker the last rollout the old master reported.
func (m *Master) seedFromHandover() {
	if m.handover == nil || len(m.handover.LastRollout) == 0 {
		return
	}
	var r supervisor.RolloutStatus
	if json.Unmarshal(m.handover.LastRollout, &r) == nil {
		m.tracker.Seed(&r)
	}
}

// reportReady tells the old master, once every worker is ready, that this
// master serves, and closes tookOver: this master answers on the control
// socket from then on. It is then the old master's turn to drain and exit.
func (m *Master) reportReady(done <-chan struct{}, tookOver chan<- struct{}) {
	select {
	case <-m.sup.AllReady():
		_, _ = fmt.Fprintln(m.ready, wire.HandoverReady)
		close(tookOver)
		m.log.Info("took over from the old master: all workers ready", "old_pid", m.handedOverBy, "upgrades", m.upgrades)
	case <-done:
	}
	m.ready.Close()
}

// reportFailure tells the old master why this one cannot take over.
func (m *Master) reportFailure(err error) {
	if m.ready != nil {
		_, _ = fmt.Fprintf(m.ready, "error: %v\n", err)
		m.ready.Close()
	}
}
