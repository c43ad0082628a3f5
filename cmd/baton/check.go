package main

import (
	"fmt"
	"io"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/master"
	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/cobra"
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
			problems = master.Preflight(cfg)
		}
		if len(problems) > 0 {
			return problemsError(exitFailed, problems)
		}
		return printConfig(c.OutOrStdout(), cfg)
	}
	return c
}

// printConfig prints the effective config as a file `baton run -c` accepts.
func printConfig(w io.Writer, c config.Config) error {
	fmt.Fprintf(w, "# effective configuration of %q (valid)\n", c.Name)
	if err := toml.NewEncoder(w).Encode(c.Raw()); err != nil {
		return fail(exitFailed, fmt.Errorf("print config: %w", err))
	}
	return nil
}
