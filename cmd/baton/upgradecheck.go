package main

import (
	"fmt"
	"os"

	"github.com/batonhq/baton/internal/master"
	"github.com/batonhq/baton/internal/wire"
	"github.com/spf13/cobra"
)

func newUpgradeCheckCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   master.UpgradeCheckArg + " [run flags] [-- COMMAND [ARG...]]",
		Short: "can this binary take over from a running master? exit 0 yes, 1 listing why not (run by `baton upgrade` first)",
		Long: "Reads the config as `baton run` would and, when " + wire.EnvHandover + " holds a running master's hand-over\n" +
			"record (`baton upgrade` sets it), checks that this binary reads its format version, that the control\n" +
			"socket is the same and that every new --listen address can be bound. Nothing is started or changed.",
		Example: `  baton upgrade-check -c baton.toml`,
	}
	l := newLoader(c)
	c.Flags().SetInterspersed(false)
	c.RunE = func(c *cobra.Command, args []string) error {
		l.setArgs(c, args)
		cfg, problems := l.load()
		record := os.Getenv(wire.EnvHandover)
		if len(problems) == 0 && record != "" {
			problems = master.CheckUpgrade(cfg, record)
		}
		if len(problems) > 0 {
			return problemsError(exitFailed, problems)
		}
		if record == "" {
			fmt.Fprintf(c.OutOrStdout(), "config valid; no hand-over record (%s) to check; this baton reads hand-over version %d\n", wire.EnvHandover, wire.HandoverVersion())
			return nil
		}
		fmt.Fprintf(c.OutOrStdout(), "can take over: hand-over version %d, config valid\n", wire.HandoverVersion())
		return nil
	}
	return c
}
