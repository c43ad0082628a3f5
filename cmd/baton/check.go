package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/sockets"
	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

func newCheckCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "check [flags] [-- COMMAND [ARG...]]",
		Short: "validate flags and config file, print the effective config; exit 1 listing every problem",
		Example: `  baton check -c baton.toml
  baton check -w 4 -l :8080 -- ./hello`,
	}
	l := newLoader(c)
	c.Flags().SetInterspersed(false)
	c.RunE = func(c *cobra.Command, args []string) error {
		l.setArgs(c, args)
		cfg, problems := l.load()
		if len(problems) == 0 {
			problems = probeSockets(cfg.Listen)
		}
		if len(problems) > 0 {
			return problemsError(exitFailed, problems)
		}
		return printConfig(c.OutOrStdout(), cfg)
	}
	return c
}

// probeSockets binds each TCP address for a moment to find ports in use,
// and checks unix paths without touching them.
func probeSockets(ls []config.Listen) []error {
	var problems []error
	for _, l := range ls {
		if l.Network != "tcp" {
			continue
		}
		s, err := sockets.Bind(l)
		if err != nil {
			problems = append(problems, fmt.Errorf("--listen: %w", err))
			continue
		}
		s.Close()
	}
	return problems
}

func printConfig(w io.Writer, c config.Config) error {
	// The effective config as a file `baton run -c` accepts.
	e := config.Raw{
		Name: c.Name, Workers: c.Workers, Mode: "inherit", Ready: c.Ready.String(),
		ReadyTimeout: c.ReadyTimeout.String(), StopSignal: strings.TrimPrefix(unix.SignalName(c.StopSignal), "SIG"),
		StopTimeout: c.StopTimeout.String(), Parallel: c.Parallel, Strategy: c.Strategy,
		Watch: c.Watch, Compat: c.Compat, Control: c.Control, LogFormat: c.LogFormat,
		Env: c.Env, Dir: c.Dir, Pidfile: c.Pidfile, Command: c.Command,
	}
	for _, l := range c.Listen {
		e.Listen = append(e.Listen, l.String())
	}
	fmt.Fprintf(w, "# effective configuration of %q (valid)\n", c.Name)
	enc := toml.NewEncoder(w)
	if err := enc.Encode(e); err != nil {
		return fail(exitFailed, fmt.Errorf("print config: %w", err))
	}
	return nil
}
