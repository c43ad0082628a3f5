package main

import (
	"fmt"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/supervisor"
	"github.com/spf13/cobra"
)

func newReloadCmd() *cobra.Command {
	var t target
	var strategy string
	c := &cobra.Command{
		Use:   "reload [--strategy surge|replace]",
		Short: "rolling restart of every worker; streams progress; exit 0 done, 1 failed, 4 refused",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if strategy != "" {
				if _, err := config.ParseStrategy(strategy); err != nil {
					return fail(exitUsage, fmt.Errorf("--strategy: %w", err))
				}
			}
			cl, err := t.client()
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			st, err := cl.Reload(c.Context(), strategy, func(e supervisor.Event) {
				if !e.Final() {
					fmt.Fprintln(out, e.Text)
				}
			})
			if err != nil {
				return apiError(err)
			}
			if st.State != supervisor.RolloutDone {
				return fail(exitFailed, fmt.Errorf("rollout %d failed: %s", st.ID, st.Error), indent(st.Output)...)
			}
			fmt.Fprintln(out, st.Summary())
			return nil
		},
	}
	t.bind(c)
	c.Flags().StringVar(&strategy, "strategy", "", "override the configured strategy for this rollout: surge|replace")
	return c
}

func indent(lines []string) []string {
	if len(lines) == 0 {
		return nil
	}
	out := []string{"last output of the failed worker:"}
	for _, l := range lines {
		out = append(out, "  "+l)
	}
	return out
}
