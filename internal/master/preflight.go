package master

import (
	"fmt"
	"net"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/control"
	"github.com/batonhq/baton/internal/sockets"
)

// Preflight finds, without changing anything, what would stop a master
// with cfg from starting that the configuration alone cannot tell: a TCP
// address in use, a unix socket path a live process listens on, a control
// socket path that is too long or whose name another master holds, an
// open-file limit too low for the workers.
// `baton check` reports these; `baton run` meets them as errors.
func Preflight(cfg config.Config) []error {
	var problems []error
	for _, l := range cfg.Listen {
		if err := probeListen(l); err != nil {
			problems = append(problems, fmt.Errorf("--listen: %w", err))
		}
	}
	if err := probeControl(cfg); err != nil {
		problems = append(problems, err)
	}
	if err := checkFDLimit(cfg, cfg.Workers); err != nil {
		problems = append(problems, err)
	}
	return problems
}

// probeListen binds a TCP address for a moment; a unix path is only dialled.
func probeListen(l config.Listen) error {
	if l.Network == "unix" {
		if c, err := net.Dial("unix", l.Address); err == nil {
			c.Close()
			return fmt.Errorf("unix:%s: a live process is listening on this socket", l.Address)
		}
		return nil
	}
	s, err := sockets.Bind(l)
	if err != nil {
		return err
	}
	s.Close()
	return nil
}

// probeControl checks the control socket path the master would take.
func probeControl(cfg config.Config) error {
	path := cfg.Control
	if path == "" {
		dir, err := control.Dir()
		if err != nil {
			return err
		}
		path = control.SocketPath(dir, cfg.Name)
	}
	if len(path) > config.MaxUnixPath {
		return fmt.Errorf("--name: the control socket %s would be %d bytes, the limit is %d: use a shorter --name or --control PATH", path, len(path), config.MaxUnixPath)
	}
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return fmt.Errorf("control socket %s: another master is running with this name (choose another --name)", path)
	}
	return nil
}
