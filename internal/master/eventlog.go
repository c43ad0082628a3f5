package master

import (
	"log/slog"
	"os"
	"time"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/sockets"
	"github.com/batonhq/baton/internal/supervisor"
)

// eventLogBuffer is how many events the log may fall behind by before it
// drops (and counts) some.
const eventLogBuffer = 8192

// startEventLog subscribes the master's log to the event stream: one line
// per event, until the stream ends; then the returned channel closes.
func startEventLog(bus *supervisor.Bus, log *slog.Logger, cfg config.Config, socks []*sockets.Socket) <-chan struct{} {
	sub := bus.Subscribe(eventLogBuffer)
	l := &eventLog{log: log, cfg: cfg, socks: socks}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var reported uint64
		for e := range sub.C {
			if d := sub.Dropped(); d > reported {
				log.Warn("the log fell behind: events dropped", "dropped", d-reported)
				reported = d
			}
			l.write(e)
		}
	}()
	return done
}

type eventLog struct {
	log   *slog.Logger
	cfg   config.Config
	socks []*sockets.Socket
}

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }

func (l *eventLog) write(e supervisor.Event) {
	switch e.Kind {
	case supervisor.KindWorker:
		l.worker(e)
	case supervisor.KindRollout:
		l.rollout(e)
	case supervisor.KindScale:
		l.log.Info("scaled", "from", e.Previous, "to", e.Workers)
	case supervisor.KindPhase:
		l.phase(e)
	case supervisor.KindBackoff:
		l.log.Info("respawn backing off", "slot", e.Slot, "delay", e.Delay.String(), "consecutive_crashes", e.Crashes)
	case supervisor.KindNote:
		l.log.Log(nil, e.Level, e.Text)
	}
}

func (l *eventLog) worker(e supervisor.Event) {
	who := []any{"slot", e.Slot, "pid", e.PID, "gen", e.Generation}
	switch e.To {
	case supervisor.Starting:
		l.log.Info("worker started", append(who, "cause", e.Cause.String())...)
	case supervisor.Ready:
		l.log.Info("worker ready", append(who, "after", ms(e.Took))...)
	case supervisor.Draining:
		if e.Cause == supervisor.CauseReadyTimeout {
			l.log.Warn("worker not ready in time: stopping it", append(who, "ready_timeout", l.cfg.ReadyTimeout.String())...)
			return
		}
		l.log.Info("worker draining", append(who, "cause", e.Cause.String())...)
	case supervisor.Exited:
		l.exited(e, who)
	}
}

func (l *eventLog) exited(e supervisor.Event, who []any) {
	exit := e.Exit.String()
	if e.Exit.Orphans > 0 && e.Exit.OrphansKilled {
		l.log.Warn("worker left processes behind outside its process group: killed with its cgroup", append(who, "processes", e.Exit.Orphans)...)
	} else if e.Exit.Orphans > 0 {
		l.log.Warn("worker left processes behind holding its output", append(who, "processes", e.Exit.Orphans)...)
	}
	switch {
	case e.Stop == supervisor.CauseReadyTimeout:
		l.log.Error("worker failed", append(who, "exit", exit, "reason", e.Text, "uptime", ms(e.Took), "last_output", e.Output)...)
	case e.Cause == supervisor.CauseCrashed:
		l.log.Error("worker crashed", append(who, "exit", exit, "reason", e.Text, "uptime", ms(e.Took), "last_output", e.Output)...)
	case e.Cause == supervisor.CauseKilled:
		l.log.Warn("worker killed: it did not exit within --stop-timeout", append(who, "exit", exit, "stop_timeout", l.cfg.StopTimeout.String(), "cause", e.Stop.String())...)
	default:
		l.log.Info("worker exited", append(who, "exit", exit, "drain", ms(e.Took), "cause", e.Stop.String(), "killed", e.Cause == supervisor.CauseForced)...)
	}
}

func (l *eventLog) rollout(e supervisor.Event) {
	r := e.Rollout
	switch e.Step {
	case supervisor.StepStarted:
		l.log.Info("rollout started", "rollout", r.ID, "trigger", r.Trigger.String(), "strategy", r.Strategy.String(),
			"workers", r.Total, "gen", r.Generation)
	case supervisor.StepNote:
		l.log.Warn("rollout note", "rollout", r.ID, "note", e.Text)
	case supervisor.StepFailed:
		l.log.Warn("new worker failed: rollout stops, old workers keep serving", "rollout", r.ID, "reason", e.Text)
	case supervisor.StepDone:
		if r.State == supervisor.RolloutFailed {
			l.log.Error("rollout failed", "rollout", r.ID, "reason", r.Error, "replaced", r.Replaced, "total", r.Total, "last_output", r.Output)
			return
		}
		l.log.Info("rollout done", "rollout", r.ID, "replaced", r.Replaced, "seconds", r.Seconds, "killed", r.Killed)
	}
}

func (l *eventLog) phase(e supervisor.Event) {
	switch e.Phase {
	case supervisor.PhaseRunning:
		l.log.Info("master started", "name", l.cfg.Name, "pid", os.Getpid(), "workers", l.cfg.Workers, "sockets", socketList(l.socks))
	case supervisor.PhaseDraining:
		if l.cfg.Mode == config.ModeProxy {
			l.log.Info("stopping: draining all workers", "workers", e.Workers, "drain_timeout", l.cfg.DrainTimeout.String(), "stop_timeout", l.cfg.StopTimeout.String())
			return
		}
		l.log.Info("stopping: draining all workers", "workers", e.Workers, "stop_timeout", l.cfg.StopTimeout.String())
	case supervisor.PhaseKilling:
		l.log.Warn("second stop: killing all workers now", "workers", e.Workers)
	case supervisor.PhaseStopped:
		l.log.Info("master stopped", "name", l.cfg.Name)
	}
}

func socketList(socks []*sockets.Socket) []string {
	out := make([]string, len(socks))
	for i, so := range socks {
		out[i] = so.Name + "=" + so.Network + ":" + so.Addr
	}
	return out
}
