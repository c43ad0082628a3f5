package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// stopMargin is added to the master's --stop-timeout for how long `baton
// stop` waits by default: draining may take the timeout, killing and
// clean-up a little more.
const stopMargin = 30 * time.Second

func newStopCmd() *cobra.Command {
	var t target
	var force, noWait bool
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "stop",
		Short: "gracefully stop the master and all workers (waits until it has exited)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cl, st, err := t.status(c.Context())
			if err != nil {
				return err
			}
			if err := cl.Stop(c.Context(), force); err != nil {
				return apiError(err)
			}
			if noWait {
				return nil
			}
			if timeout <= 0 {
				timeout = time.Duration(st.StopTimeout*float64(time.Second)) + stopMargin
			}
			ctx, cancel := context.WithTimeout(c.Context(), timeout)
			defer cancel()
			if err := cl.Wait(ctx); err != nil {
				return fail(exitFailed, fmt.Errorf("the master (pid %d) began stopping but had not exited after %s: %w", st.PID, timeout, err))
			}
			return nil
		},
	}
	t.bind(c)
	c.Flags().BoolVar(&force, "force", false, "kill the workers at once instead of draining them")
	c.Flags().BoolVar(&noWait, "no-wait", false, "return once the stop has begun")
	c.Flags().DurationVar(&timeout, "timeout", 0, "how long to wait for the master to exit (default: its --stop-timeout + 30s)")
	return c
}
