package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/control"
	"github.com/batonhq/baton/internal/logs"
	"github.com/batonhq/baton/internal/proc"
	"github.com/batonhq/baton/internal/sockets"
	"github.com/batonhq/baton/internal/supervisor"
	"github.com/batonhq/baton/internal/watch"
	"github.com/spf13/cobra"
)

func newRunCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "run [flags] -- COMMAND [ARG...]",
		Short: "run a master in the foreground: bind the sockets, start and supervise the workers",
		Example: `  baton run -w 4 -l 127.0.0.1:8080 -- ./hello
  baton run -c baton.toml`,
	}
	l := newLoader(c)
	c.Flags().SetInterspersed(false)
	c.RunE = func(c *cobra.Command, args []string) error {
		l.setArgs(c, args)
		cfg, problems := l.load()
		if len(problems) > 0 {
			return problemsError(exitUsage, problems)
		}
		return runMaster(cfg, l)
	}
	return c
}

// master is everything one `baton run` holds, for orderly cleanup.
type master struct {
	cfg       config.Config
	log       *slog.Logger
	ctlPath   string
	notifyDir string
	socks     []*sockets.Socket
	guardian  *proc.Guardian
}

func runMaster(cfg config.Config, l *loader) error {
	m := &master{cfg: cfg, log: logs.NewLogger(os.Stderr, logs.Format(cfg.LogFormat))}
	self, err := os.Executable()
	if err != nil {
		return fail(exitFailed, fmt.Errorf("find baton's own binary: %w", err))
	}
	ctlLn, err := m.openControl()
	if err != nil {
		return fail(exitFailed, err)
	}
	defer m.cleanup()
	m.socks, err = sockets.BindAll(socketSpecs(cfg.Listen))
	if err != nil {
		ctlLn.Close()
		return fail(exitFailed, fmt.Errorf("--listen: %w", err))
	}
	if m.notifyDir, err = os.MkdirTemp(filepath.Dir(m.ctlPath), cfg.Name+".notify-"); err != nil {
		ctlLn.Close()
		return fail(exitFailed, fmt.Errorf("create notify directory: %w", err))
	}
	spawner := proc.NewSpawner()
	if m.guardian, err = proc.StartGuardian(spawner, self); err != nil {
		ctlLn.Close()
		return fail(exitFailed, err)
	}
	if err := writePidfile(cfg.Pidfile); err != nil {
		ctlLn.Close()
		return fail(exitFailed, err)
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR2, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGHUP)
	defer signal.Stop(sigs)
	launcher := &supervisor.ProcLauncher{
		Name: cfg.Name, Sockets: m.socks, Self: self, NotifyDir: m.notifyDir,
		Spawner: spawner, Guardian: m.guardian,
		Output: logs.NewSink(os.Stdout, os.Stderr, logs.Format(cfg.LogFormat)),
	}
	sup := supervisor.New(supervisor.Options{
		Name: cfg.Name, Config: cfg, Sockets: m.socks, Launcher: launcher, Logger: m.log,
		Reconfigure: l.reload, Compat: compatReader(cfg.Compat),
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		if err := control.Serve(ctx, ctlLn, sup, m.log); err != nil {
			m.log.Error("control socket", "err", err)
		}
	}()
	if len(cfg.Watch) > 0 {
		go watch.New(watch.Options{Paths: cfg.Watch}).Run(ctx, sup.Changed)
	}
	m.log.Info("control socket", "path", m.ctlPath)
	return sup.Run(ctx, filterSignals(sigs, m.log))
}

// filterSignals passes on the signals the supervisor acts on and logs the
// ones this version does not handle.
func filterSignals(in <-chan os.Signal, log *slog.Logger) <-chan os.Signal {
	out := make(chan os.Signal, 8)
	go func() {
		for sig := range in {
			if sig == syscall.SIGHUP {
				log.Warn("SIGHUP ignored: replacing the master (upgrade) is not available in this version")
				continue
			}
			out <- sig
		}
	}()
	return out
}

func (m *master) openControl() (net.Listener, error) {
	path := m.cfg.Control
	if path == "" {
		dir, err := control.Dir()
		if err != nil {
			return nil, err
		}
		path = control.SocketPath(dir, m.cfg.Name)
	}
	ln, err := control.Listen(path)
	if err != nil {
		return nil, err
	}
	m.ctlPath = path
	return ln, nil
}

func (m *master) cleanup() {
	if m.guardian != nil {
		_ = m.guardian.Close()
	}
	sockets.CloseAll(m.socks)
	if m.notifyDir != "" {
		_ = os.RemoveAll(m.notifyDir)
	}
	if m.ctlPath != "" {
		_ = os.Remove(m.ctlPath)
	}
	if m.cfg.Pidfile != "" {
		_ = os.Remove(m.cfg.Pidfile)
	}
}

func socketSpecs(ls []config.Listen) []sockets.Spec {
	out := make([]sockets.Spec, len(ls))
	for i, l := range ls {
		out[i] = sockets.Spec{Name: l.Name, Network: l.Network, Address: l.Address}
	}
	return out
}

// writePidfile writes the pid atomically (temp file, then rename).
func writePidfile(path string) error {
	if path == "" {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("--pidfile: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("--pidfile: %w", err)
	}
	return nil
}

// compatReader returns the reader of the compatibility token file.
func compatReader(path string) func() (string, error) {
	if path == "" {
		return nil
	}
	return func() (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("--compat: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
}
