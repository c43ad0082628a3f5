package master

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/control"
	"github.com/batonhq/baton/internal/logs"
	"github.com/batonhq/baton/internal/proc"
	"github.com/batonhq/baton/internal/proxy"
	"github.com/batonhq/baton/internal/sdnotify"
	"github.com/batonhq/baton/internal/sockets"
	"github.com/batonhq/baton/internal/supervisor"
	"github.com/batonhq/baton/internal/watch"
	"github.com/batonhq/baton/internal/wire"
)

// Options are what a master is built from.
type Options struct {
	Config config.Config
	// Reconfigure re-reads the configuration for a rollout (the file may
	// have changed; the flags have not). Nil reuses Config.
	Reconfigure func() (config.Config, error)
	// Stdout and Stderr receive worker output and the master's log;
	// nil means the process's own.
	Stdout, Stderr io.Writer
	// Args is the master's own command line (os.Args): an upgrade runs
	// the program at Args[0], resolved now, with the same arguments.
	Args []string
	// Version is baton's version, shown in status.
	Version string
	// Handover is the hand-over record when an old master started this
	// one (wire.EnvHandover); empty for a fresh start.
	Handover string
	// Getenv reads the environment the master was started with (socket
	// activation, the notify socket); nil means os.Getenv.
	Getenv func(string) string
}

// OutputQueue is how many lines of output (worker lines and the master's
// log) may wait for a slow reader of the master's stdout or stderr before
// new ones are dropped and counted as lost.
const OutputQueue = 8192

// outputFlush bounds how long a stopping master waits for its queued
// output to be written.
const outputFlush = 5 * time.Second

// Master is one `baton run`. Create with New, then call Run once.
type Master struct {
	opts   Options
	cfg    config.Config
	stdout *logs.Output
	stderr *logs.Output
	log    *slog.Logger
	ring   *logs.Ring // recent lines of every worker and of the master, for `baton logs`

	// Set up by Run, released by cleanup.
	ctl       *control.Socket
	socks     []*sockets.Socket
	notifyDir string
	contain   *proc.Containment // cgroups, or process groups and a subreaper
	guardian  *proc.Guardian
	pidfile   *pidfile
	bus       *supervisor.Bus
	tracker   *supervisor.Tracker
	healer    *healer
	sup       *supervisor.Supervisor
	proxy     *proxy.Server   // proxy mode only
	logged    <-chan struct{} // closed once the log has written the last event
	sd        *systemd        // the master's side of systemd's notify protocol
	sdDone    <-chan struct{} // closed once the systemd reporter has seen the last event
	ran       bool            // the supervisor ran (and so closed the bus)

	// Upgrades: this master's own (the old side) ...
	exe, cwd  string   // the program and directory an upgrade starts from
	args      []string // its arguments, Args[0] included
	upgrading atomic.Bool
	// upgradeRun is held while an upgrade runs; Run takes it before the
	// master exits, so that an upgrade a stop abandoned has killed its
	// new master (and said so) first.
	upgradeRun    sync.Mutex
	upgradingTo   atomic.Int64
	upgradeFailed atomic.Int64
	handedOver    atomic.Bool
	// ... and the one that started it (the new side).
	ready        *os.File // the ready pipe to the old master
	handover     *wire.Handover
	upgrades     int
	upgradedAt   time.Time
	handedOverBy int
	handingOver  atomic.Int64 // the old master's pid until it has exited
	removedNames []string     // names of sockets the old master passed that no --listen wants

	admin adminSide   // --admin and --shutdown-delay
	usage *usageMeter // workers' memory and CPU for status
}

// New returns a master for opts; it binds and starts nothing until Run.
func New(opts Options) *Master {
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	m := &Master{opts: opts, cfg: opts.Config,
		stdout: logs.NewQueuedOutput(opts.Stdout, OutputQueue), stderr: logs.NewQueuedOutput(opts.Stderr, OutputQueue)}
	m.ring = logs.NewRing(m.cfg.LogLines)
	m.usage = newUsageMeter()
	m.log = logs.NewLogger(m.ring.Writer(m.stderr), logs.Format(m.cfg.LogFormat))
	m.cwd, _ = os.Getwd()
	m.args = opts.Args
	if len(m.args) == 0 {
		m.args = os.Args
	}
	m.exe = resolveProgram(m.args[0], m.cwd)
	m.sd = newSystemd(sdnotify.FromEnv(opts.Getenv), m.log, m.status)
	m.sd.main.Store(opts.Handover == "") // a new master of an upgrade is not main yet
	return m
}

// resolveProgram turns the master's argv[0] into an absolute path (so an
// upgrade starts whatever is at that path then), or /proc/self/exe's
// target when it cannot be found.
func resolveProgram(arg0, cwd string) string {
	p, err := exec.LookPath(arg0)
	if err == nil && !filepath.IsAbs(p) {
		p = filepath.Join(cwd, p)
	}
	if err != nil {
		p, _ = os.Executable()
	}
	return p
}

// Run binds everything, supervises the workers until a stop (SIGTERM,
// SIGINT, `baton stop`, or ctx ending) has drained them, and cleans up.
// Every error is a failure at run time, wrapped with what was being done.
func (m *Master) Run(ctx context.Context) error {
	// The master must outlive whatever reads its output: a write to a
	// closed pipe fails (and is counted) instead of killing the process.
	signal.Ignore(syscall.SIGPIPE)
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR2, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGHUP)
	defer signal.Stop(sigs)
	defer m.flushOutput()
	if err := m.setUp(); err != nil {
		m.reportFailure(err)
		m.cleanup()
		m.closeControl()
		return err
	}
	serveCtx, stopServing := context.WithCancel(context.Background())
	served := make(chan struct{})
	// The new master of an upgrade shares the control socket with the old
	// one: it answers only once it has taken over, so that until then every
	// client (a stop, a reload, a scale) reaches the old master.
	tookOver := make(chan struct{})
	if m.ready == nil {
		close(tookOver)
	}
	go func() {
		defer close(served)
		select {
		case <-tookOver:
		case <-serveCtx.Done():
			return
		}
		if err := control.Serve(serveCtx, m.ctl.Listener, m, m.log); err != nil {
			m.log.Error("control socket", "err", err)
		}
	}()
	runCtx, cancel := context.WithCancel(ctx)
	if len(m.cfg.Watch) > 0 {
		go watch.New(watch.Options{Paths: m.cfg.Watch}).Run(runCtx, m.sup.Changed)
	}
	go m.healer.run(runCtx)
	m.startProxy(runCtx)
	if m.ready != nil {
		go m.reportReady(runCtx.Done(), tookOver)
	}
	m.sdDone = m.startSystemd(runCtx.Done())
	go m.serveAdmin(m.adminReady(), runCtx.Done())
	m.log.Info("control socket", "path", m.ctl.Path())
	m.ran = true
	err := m.sup.Run(runCtx, m.filterSignals(runCtx, sigs))
	m.upgradeRun.Lock() // an upgrade under way ends first: a stop kills its new master
	m.upgradeRun.Unlock()
	cancel()
	m.closeAdmin()
	m.closeProxy()
	m.cleanup()
	// Last, the control socket: a client waiting for this master to exit
	// sees its connection close only once everything else is released.
	stopServing()
	<-served
	m.closeControl()
	return err
}

// setUp takes the name, binds the sockets (or takes them over from the
// master this one replaces) and starts what the workers need.
func (m *Master) setUp() error {
	if err := checkFDLimit(m.cfg, m.cfg.Workers); err != nil {
		return err
	}
	if err := m.takeName(); err != nil {
		return err
	}
	if err := m.bindAdmin(); err != nil {
		return err
	}
	runtimeDir, err := control.Dir()
	if err != nil {
		return err
	}
	if m.notifyDir, err = proc.NotifyDir(runtimeDir, m.cfg.RunAs.Drop); err != nil {
		return err
	}
	spawner := proc.NewSpawner()
	m.contain = proc.Contain(m.cfg.Name, m.opts.Getenv(proc.ContainmentEnv), spawner, m.log)
	m.usage.read = m.contain.ReadUsage
	if m.guardian, err = proc.StartGuardian(spawner, proc.SelfExe, m.contain.Parents(), m.log); err != nil {
		return err
	}
	if m.pidfile, err = writePidfile(m.cfg.Pidfile); err != nil {
		return err
	}
	m.startSupervisor(spawner)
	return nil
}

// takeName takes the control socket and binds the sockets, or takes both
// over in an upgrade.
func (m *Master) takeName() error {
	if m.opts.Handover != "" {
		return m.takeOver()
	}
	var err error
	if m.ctl, err = openControl(m.cfg); err != nil {
		return err
	}
	return m.bindListen()
}

// startSupervisor builds the supervisor and subscribes the master's
// readers of its event stream before anything happens.
func (m *Master) startSupervisor(spawner *proc.Spawner) {
	m.bus = supervisor.NewBus()
	m.tracker = supervisor.NewTracker(m.bus)
	m.seedFromHandover()
	m.logged = startEventLog(m.bus, m.log, m.cfg, m.socks)
	m.startMetrics()
	m.healer = newHealer(m.bus, m.socks, m.cfg.Command, m.log)
	m.healer.ctl = m.ctl
	inner := &proc.OS{
		Name: m.cfg.Name, NotifyDir: m.notifyDir, Spawner: spawner, Guardian: m.guardian,
		Contain: m.contain, RunAs: m.cfg.RunAs,
		Output: logs.NewSink(m.stdout, m.stderr, logs.Format(m.cfg.LogFormat)).KeepIn(m.ring),
	}
	launcher := m.withProxy(inner)
	names, socks := m.workerSockets()
	inner.Files, inner.Names = sockets.Files(socks), names
	opts := supervisor.Options{
		Name: m.cfg.Name, Config: m.cfg, Sockets: socketStatus(m.socks), Launcher: launcher, Bus: m.bus,
		Reconfigure: m.opts.Reconfigure, Compat: compatReader(m.cfg.Compat),
	}
	opts.Memory, opts.MemoryKind = m.contain.MemoryReader(&proc.GroupMemory{})
	if h := m.handover; h != nil {
		opts.Generation, opts.Rollouts = h.Generation, h.Rollouts
		for name, n := range h.Recycled {
			var c supervisor.Cause
			if c.UnmarshalText([]byte(name)) == nil {
				if opts.Recycled == nil {
					opts.Recycled = map[supervisor.Cause]int{}
				}
				opts.Recycled[c] = n
			}
		}
	}
	m.sup = supervisor.New(opts)
	m.startTrim()
}

// openControl takes the control socket (and with it the name).
func openControl(cfg config.Config) (*control.Socket, error) {
	path, err := controlPath(cfg)
	if err != nil {
		return nil, err
	}
	return control.Listen(path)
}

// controlPath is the --control path, else NAME.sock in the per-user
// runtime directory.
func controlPath(cfg config.Config) (string, error) {
	if cfg.Control != "" {
		return cfg.Control, nil
	}
	dir, err := control.Dir()
	if err != nil {
		return "", err
	}
	return control.SocketPath(dir, cfg.Name), nil
}

// cleanup releases, in reverse order, whatever setUp took but the control
// socket (closeControl).
func (m *Master) cleanup() {
	if m.ran {
		<-m.logged
		<-m.sdDone
		if m.admin.done != nil {
			<-m.admin.done
		}
		m.healer.wait()
	}
	if m.guardian != nil {
		_ = m.guardian.Close()
	}
	m.contain.Close()
	m.releaseAdmin()
	if m.handedOver.Load() {
		for _, s := range m.socks {
			s.Release() // the new master's now
		}
	} else {
		sockets.CloseAll(m.socks)
	}
	if m.notifyDir != "" {
		_ = os.RemoveAll(m.notifyDir)
	}
	if err := m.pidfile.remove(); err != nil {
		m.log.Warn("remove pidfile", "err", err)
	}
}

// flushOutput writes what is still queued for stdout and stderr, for a
// bounded time.
func (m *Master) flushOutput() {
	ctx, cancel := context.WithTimeout(context.Background(), outputFlush)
	defer cancel()
	_ = m.stdout.Close(ctx)
	_ = m.stderr.Close(ctx)
}

// closeControl removes the control socket (only the one this master
// bound) and gives up the name.
func (m *Master) closeControl() {
	switch {
	case m.ctl == nil:
	case m.handedOver.Load():
		_ = m.ctl.Release()
	default:
		_ = m.ctl.Close()
	}
}

// filterSignals passes on the signals the supervisor acts on and logs the
// ones this version does not handle.
func (m *Master) filterSignals(ctx context.Context, in <-chan os.Signal) <-chan os.Signal {
	out := make(chan os.Signal, 8)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case sig := <-in:
				if sig == syscall.SIGHUP {
					go m.upgradeOnSignal(ctx)
					continue
				}
				if (sig == syscall.SIGTERM || sig == syscall.SIGINT) && m.delayStop() {
					continue
				}
				select {
				case out <- sig:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

func socketStatus(socks []*sockets.Socket) []supervisor.SocketStatus {
	out := make([]supervisor.SocketStatus, len(socks))
	for i, so := range socks {
		out[i] = supervisor.SocketStatus{Name: so.Name, Network: so.Network, Address: so.Addr, FD: wire.FD(i)}
	}
	return out
}

// compatReader returns the reader of the compatibility token file.
func compatReader(path string) func() (string, error) {
	if path == "" {
		return nil
	}
	return func() (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("--compat: read %s: %w", path, errors.Unwrap(err))
		}
		return strings.TrimSpace(string(b)), nil
	}
}
