package master

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton/internal/proc"
	"github.com/batonhq/baton/internal/sdnotify"
	"github.com/batonhq/baton/internal/sockets"
	"github.com/batonhq/baton/internal/supervisor"
)

// systemdBuffer is how many events the systemd reporter may fall behind by.
const systemdBuffer = 1024

// systemd speaks the master's side of the service manager's notify
// protocol: READY=1 once the first workers are ready, a one-line STATUS=
// as workers come and go, RELOADING=1 (with MONOTONIC_USEC=) … READY=1
// around every rollout and upgrade, STOPPING=1 when a stop begins, and on
// a hand-over MAINPID= of the new master. It also keeps the listening
// sockets in the fd store. Only the service's main process is heard by
// systemd (NotifyAccess=main), so a master is quiet while it is not: a
// new master until the old one has exited, an old one once it handed over.
type systemd struct {
	n      *sdnotify.Notifier
	log    *slog.Logger
	status func(context.Context) (supervisor.Status, error)
	main   atomic.Bool // this process is the one systemd listens to
	last   string      // the last STATUS= sent by run (its goroutine only)
}

func newSystemd(n *sdnotify.Notifier, log *slog.Logger, status func(context.Context) (supervisor.Status, error)) *systemd {
	return &systemd{n: n, log: log, status: status}
}

// send sends the assignments while this master is the main process.
func (s *systemd) send(assignments ...string) {
	if !s.main.Load() {
		return
	}
	if err := s.n.Send(sdnotify.Lines(assignments...)); err != nil {
		s.log.Warn("systemd notify", "err", err)
	}
}

// run follows the event stream until it ends. ready is closed when this
// master becomes the one systemd listens to with its workers ready: at
// once for a fresh start once all workers are ready, after the old
// master's exit for a new master of an upgrade.
func (s *systemd) run(sub *supervisor.Subscription, ready <-chan struct{}) {
	for {
		select {
		case <-ready:
			ready = nil
			s.main.Store(true)
			s.last = sdnotify.Status(s.summary())
			s.send("READY=1", s.last)
		case e, ok := <-sub.C:
			if !ok {
				return
			}
			s.event(e, sub)
		}
	}
}

// event acts on one event and on every one already queued behind it, then
// sends one STATUS= for all of them.
func (s *systemd) event(e supervisor.Event, sub *supervisor.Subscription) {
	for {
		switch {
		case e.Kind == supervisor.KindRollout && e.Step == supervisor.StepStarted:
			s.send("RELOADING=1", sdnotify.Monotonic())
		case e.Final():
			s.send("READY=1")
		case e.Kind == supervisor.KindPhase && e.Phase == supervisor.PhaseDraining:
			s.send("STOPPING=1")
		}
		select {
		case next, ok := <-sub.C:
			if !ok {
				return
			}
			e = next
			continue
		default:
		}
		break
	}
	if line := sdnotify.Status(s.summary()); line != s.last && s.main.Load() {
		s.last = line
		s.send(line)
	}
}

// summary is the one line systemctl status shows.
func (s *systemd) summary() string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := s.status(ctx)
	if err != nil {
		return "status unavailable: " + err.Error()
	}
	line := fmt.Sprintf("%d/%d workers ready, generation %d", st.ReadyCount(), st.Desired, st.Generation)
	switch {
	case st.Phase.Stopping():
		line = fmt.Sprintf("stopping: %d workers left", len(st.Workers))
	case st.Rollout != nil && st.Rollout.State == supervisor.RolloutRunning:
		line += fmt.Sprintf(", rollout %d running", st.Rollout.ID)
	}
	return line
}

// upgradeBegins brackets a master upgrade like a reload.
func (s *systemd) upgradeBegins() { s.send("RELOADING=1", sdnotify.Monotonic()) }

// upgradeFailed ends the bracket; the old master goes on as before.
func (s *systemd) upgradeFailed(reason string) {
	s.send("READY=1", sdnotify.Status("upgrade failed, the old master serves: "+reason))
}

// handOver makes the new master systemd's main process and ends the
// bracket, in one datagram: after it, systemd no longer hears this one.
func (s *systemd) handOver(pid int) {
	s.send("MAINPID="+strconv.Itoa(pid), "READY=1", sdnotify.Status(fmt.Sprintf("handed over to master pid %d", pid)))
	s.main.Store(false)
}

// storeSockets puts the listening sockets in systemd's fd store, each
// under its --listen name (FDPOLL=0: a listening socket is never "hung
// up"), unless the service says it has no store (FDSTORE=0). A name no
// longer listened on is removed first. systemd drops a descriptor it
// already holds, so storing again after an upgrade adds only new ones.
func (s *systemd) storeSockets(socks []*sockets.Socket, removed []string, getenv func(string) string) {
	if !s.n.Enabled() || getenv(sdnotify.EnvFDStore) == "0" {
		return
	}
	for _, name := range removed {
		if err := s.n.Send(sdnotify.Lines("FDSTOREREMOVE=1", "FDNAME="+name)); err != nil {
			s.log.Warn("systemd fd store", "err", err)
		}
	}
	for _, so := range socks {
		if err := s.n.Send(sdnotify.Lines("FDSTORE=1", "FDPOLL=0", "FDNAME="+so.Name), so.File); err != nil {
			s.log.Warn("systemd fd store", "socket", so.Name, "err", err)
		}
	}
}

// exited returns a channel closed when process pid has exited (its pidfd
// turns readable), or at once when it is already gone.
func exited(pid int, done <-chan struct{}) <-chan struct{} {
	out := make(chan struct{})
	go func() {
		defer close(out)
		waitExit(pid, done)
	}()
	return out
}

// waitExit blocks until pid exits or done closes.
func waitExit(pid int, done <-chan struct{}) {
	if !proc.AwaitExit(pid, done) {
		pollExit(pid, done)
	}
}

// pollExit is waitExit without pollable pidfds (Linux before 5.10): the
// process is gone once it is no longer this one's parent.
func pollExit(pid int, done <-chan struct{}) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for os.Getppid() == pid {
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}

// startSystemd subscribes the systemd reporter to the event stream and
// starts it; the returned channel closes once the stream has ended.
func (m *Master) startSystemd(stop <-chan struct{}) <-chan struct{} {
	sub := m.bus.Subscribe(systemdBuffer)
	done := make(chan struct{})
	ready := make(chan struct{})
	go func() {
		defer close(done)
		m.sd.run(sub, ready)
	}()
	go func() {
		if m.handedOverBy == 0 { // at once: a crash from now on loses no connection
			m.sd.storeSockets(m.socks, nil, m.opts.Getenv)
		}
		select {
		case <-m.sup.AllReady():
		case <-stop:
			return
		}
		if m.handedOverBy != 0 {
			<-exited(m.handedOverBy, stop)
			m.handingOver.Store(0)
			m.sd.main.Store(true)
			m.sd.storeSockets(m.socks, m.removedNames, m.opts.Getenv)
		}
		close(ready)
	}()
	return done
}
