package main

import (
	"context"
	"os"

	"github.com/batonhq/baton/internal/master"
	"github.com/batonhq/baton/internal/wire"
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
		m := master.New(master.Options{Config: cfg, Reconfigure: l.reload,
			Stdout: c.OutOrStdout(), Stderr: c.ErrOrStderr(),
			Args: os.Args, Version: versionString(), Handover: os.Getenv(wire.EnvHandover)})
		if err := m.Run(context.Background()); err != nil {
			return fail(exitFailed, err)
		}
		return nil
	}
	return c
}
