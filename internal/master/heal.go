package master

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton/internal/sockets"
	"github.com/batonhq/baton/internal/supervisor"
)

// HealInterval is how often the master checks, besides after every
// worker exit, that its sockets still listen.
const HealInterval = time.Second

// healer keeps the listening sockets listening. Every worker shares the
// master's open socket, so one that calls shutdown() on it (some servers
// do, to wake their accept threads on exit) stops it listening for all.
// After each worker exit, and every HealInterval, the healer checks each
// socket (SO_ACCEPTCONN) and calls listen() again on one that stopped.
type healer struct {
	sub     *supervisor.Subscription
	socks   []*sockets.Socket
	command string
	log     *slog.Logger
	healed  atomic.Uint64
	broken  map[string]bool // sockets that cannot be healed, reported once
	done    chan struct{}
	// ctl, when set, is the control socket, created again when its file
	// is removed (checked every HealInterval).
	ctl        controlRestorer
	ctlFailing bool // a failure to restore it, reported once
}

// controlRestorer is the control socket as the healer sees it.
type controlRestorer interface {
	Restore() (bool, error)
	Path() string
}

func newHealer(bus *supervisor.Bus, socks []*sockets.Socket, command []string, log *slog.Logger) *healer {
	return &healer{sub: bus.Subscribe(1024), socks: socks, command: strings.Join(command, " "), log: log,
		broken: map[string]bool{}, done: make(chan struct{})}
}

// run checks until ctx ends or the event stream does.
func (h *healer) run(ctx context.Context) {
	defer close(h.done)
	tick := time.NewTicker(HealInterval)
	defer tick.Stop()
	for {
		select {
		case e, ok := <-h.sub.C:
			if !ok {
				return
			}
			if e.Kind == supervisor.KindWorker && e.To == supervisor.Exited {
				h.check("pid", e.PID)
			}
		case <-tick.C:
			h.check()
			h.restoreControl()
		case <-ctx.Done():
			h.sub.Close()
			return
		}
	}
}

// wait returns once run has returned.
func (h *healer) wait() { <-h.done }

// check heals every socket that stopped listening; who names the worker
// that just exited, if one did.
func (h *healer) check(who ...any) {
	for _, s := range h.socks {
		healed, err := s.Heal()
		switch {
		case healed:
			h.healed.Add(1)
			h.log.Warn("a worker shut the listening socket down: listening on it again",
				append([]any{"socket", s.Name, "address", s.Addr, "worker_command", h.command}, who...)...)
		case errors.Is(err, sockets.ErrCannotListenAgain):
			if !h.broken[s.Name] {
				h.broken[s.Name] = true
				h.log.Error("a worker shut the listening socket down and it cannot listen again: restart the master",
					append([]any{"socket", s.Name, "address", s.Addr, "worker_command", h.command, "err", err}, who...)...)
			}
		case err != nil:
			h.log.Warn("check listening socket", "socket", s.Name, "err", err)
		}
	}
}

// restoreControl creates the control socket again if its file is gone, so
// that `baton status` and the other client commands find the master.
func (h *healer) restoreControl() {
	if h.ctl == nil {
		return
	}
	restored, err := h.ctl.Restore()
	switch {
	case restored:
		h.ctlFailing = false
		h.log.Warn("the control socket was removed: created it again", "path", h.ctl.Path())
	case err != nil && !h.ctlFailing:
		h.ctlFailing = true
		h.log.Error("the control socket was removed and is not created again: client commands cannot reach this master", "path", h.ctl.Path(), "err", err)
	}
}
