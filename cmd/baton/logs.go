package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/batonhq/baton/internal/control"
	"github.com/batonhq/baton/internal/logs"
	"github.com/spf13/cobra"
)

func newLogsCmd() *cobra.Command {
	var t target
	var q control.LogsQuery
	var slot int
	var asJSON bool
	c := &cobra.Command{
		Use:   "logs [-f] [-n N] [--worker SLOT]",
		Short: "recent output of every worker and the master's events; -f follows",
		Example: `  baton logs -n 50
  baton logs -f --worker 2`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if q.Lines < 0 {
				return fail(exitUsage, fmt.Errorf("-n: %d is not a line count: want 0 or more", q.Lines))
			}
			if c.Flags().Changed("worker") {
				if slot < 0 {
					return fail(exitUsage, fmt.Errorf("--worker: %d is not a slot: want 0 or more", slot))
				}
				q.Slot = &slot
			}
			cl, err := t.client()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(c.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return printLogs(ctx, cl, q, c.OutOrStdout(), asJSON)
		},
	}
	t.bind(c)
	c.Flags().BoolVarP(&q.Follow, "follow", "f", false, "then print new lines as they come, until interrupted")
	c.Flags().IntVarP(&q.Lines, "lines", "n", 20, "how many of the newest kept lines to print first")
	c.Flags().IntVar(&slot, "worker", 0, "only this worker slot's lines")
	c.Flags().BoolVar(&asJSON, "json", false, "one JSON object a line (time, slot, pid, stream, text)")
	return c
}

func printLogs(ctx context.Context, cl *control.Client, q control.LogsQuery, out io.Writer, asJSON bool) error {
	enc := json.NewEncoder(out)
	err := cl.Logs(ctx, q, func(e logs.Entry) {
		switch {
		case asJSON:
			_ = enc.Encode(e)
		case e.Slot == logs.MasterSlot:
			fmt.Fprintln(out, e.Text)
		default:
			fmt.Fprintf(out, "[slot %d pid %d] %s\n", e.Slot, e.PID, e.Text)
		}
	})
	if err != nil && ctx.Err() == nil {
		return apiError(err)
	}
	return nil
}
