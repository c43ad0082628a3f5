package demo

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/batonhq/baton/examples/hello/app"
	"github.com/batonhq/baton/internal/control"
	"github.com/batonhq/baton/internal/supervisor"
)

// ServerArg is the hidden subcommand that runs the example server as a
// demo worker.
const ServerArg = "__demo-server"

// brokenFile, present in a worker's directory, makes a new worker exit at
// once: the broken deploy.
const brokenFile = "BROKEN"

// NoGraceArg makes a demo worker a server with no signal handler at all,
// listening on the address after it: it dies at once on SIGTERM, like
// most programs behind proxy mode.
const NoGraceArg = "--no-grace"

// ServerMain is a demo worker: the example server, unless the deploy is
// broken. It returns the process's exit code.
func ServerMain(args []string) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("pid", os.Getpid())
	if _, err := os.Stat(brokenFile); err == nil {
		log.Error("cannot start: this build is broken (the demo's bad deploy)")
		return 1
	}
	if len(args) == 2 && args[0] == NoGraceArg {
		return serveWithoutGrace(args[1], log)
	}
	if err := app.Run("127.0.0.1:0", 0, log); err != nil {
		log.Error("demo server failed", "err", err)
		return 1
	}
	return 0
}

// serveWithoutGrace serves the example handler on addr and never drains:
// SIGTERM's default action ends the process at once.
func serveWithoutGrace(addr string, log *slog.Logger) int {
	h, err := app.NewHandler()
	if err != nil {
		log.Error("demo server failed", "err", err)
		return 1
	}
	log.Info("serving, with no signal handler", "addr", addr)
	if err := http.ListenAndServe(addr, h); err != nil {
		log.Error("demo server failed", "err", err)
	}
	return 1
}

// master is the demo's master process line (it changes at an upgrade).
type master struct {
	dir, addr string
	ctl       *control.Client
	log       *os.File
	kills     []span // from a worker's SIGKILL until it was seen gone
}

// startMaster runs `EXE run` with the demo server as the workers and waits
// until all are ready.
func startMaster(ctx context.Context, o Options, dir string) (*master, error) {
	return startAMaster(ctx, o, dir, "demo", o.Port, o.Workers, nil, []string{ServerArg})
}

// startProxyMaster runs a second master in --proxy http mode whose workers
// have no signal handler at all.
func startProxyMaster(ctx context.Context, o Options, dir string, port int) (*master, error) {
	return startAMaster(ctx, o, dir, "demo-proxy", port, proxyWorkers, []string{"--mode", "proxy", "--proxy", "http"},
		[]string{ServerArg, NoGraceArg, "127.0.0.1:{port}"})
}

func startAMaster(ctx context.Context, o Options, dir, name string, port, workers int, flags, worker []string) (*master, error) {
	log, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	m := &master{dir: dir, addr: "127.0.0.1:" + strconv.Itoa(port), log: log,
		ctl: control.NewClient(filepath.Join(dir, name+".sock"))}
	args := append([]string{"run", "--name", name, "--control", m.ctl.Path, "-w", strconv.Itoa(workers),
		"-l", m.addr, "--ready-timeout", "10s", "--stop-timeout", "10s"}, flags...)
	cmd := exec.Command(o.Exe, append(append(args, "--", o.Exe), worker...)...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, log, log
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+dir)
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("demo: start the master: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	if _, err := m.waitReady(ctx, workers, 30*time.Second, nil); err != nil {
		m.stop()
		return nil, err
	}
	return m, nil
}

func (m *master) status(ctx context.Context) (supervisor.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return m.ctl.Status(ctx)
}

// waitReady polls until n workers are ready (and, with cond, cond holds).
func (m *master) waitReady(ctx context.Context, n int, limit time.Duration, cond func(supervisor.Status) bool) (supervisor.Status, error) {
	deadline := time.Now().Add(limit)
	for {
		st, err := m.status(ctx)
		if err == nil && st.ReadyCount() == n && len(st.Workers) == n && (cond == nil || cond(st)) {
			return st, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return st, fmt.Errorf("demo: %d ready workers not reached within %s (%v)", n, limit, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop stops whichever master serves now and waits until it is gone.
func (m *master) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if m.ctl.Stop(ctx, false) == nil {
		_ = m.ctl.Wait(ctx)
	}
	m.log.Close()
}
