package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/batonhq/baton/internal/control"
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
			return runStop(c.Context(), t, force, noWait, timeout)
		},
	}
	t.bind(c)
	c.Flags().BoolVar(&force, "force", false, "kill the workers at once instead of draining them")
	c.Flags().BoolVar(&noWait, "no-wait", false, "return once the stop has begun")
	c.Flags().DurationVar(&timeout, "timeout", 0, "how long to wait for the master to exit (default: its --stop-timeout + 30s)")
	return c
}

// runStop asks the master to stop and waits until it has exited. A master
// already stopping (another stop, a SIGTERM) is waited for the same way:
// its stop is what was asked, so this one succeeds too.
func runStop(ctx context.Context, t target, force, noWait bool, timeout time.Duration) error {
	cl, err := t.client()
	if err != nil {
		return err
	}
	st, err := cl.Status(ctx)
	if err == nil {
		err = cl.Stop(ctx, force)
	}
	if err != nil && !alreadyStopping(err) {
		return apiError(err)
	}
	if noWait {
		return nil
	}
	if timeout <= 0 {
		timeout = time.Duration(st.StopTimeout*float64(time.Second)) + stopMargin
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := cl.Wait(wctx); err != nil {
		return fail(exitFailed, fmt.Errorf("the master (pid %d) began stopping but had not exited after %s: %w", st.PID, timeout, err))
	}
	return nil
}

// alreadyStopping says whether err is the master's answer that it is
// stopping already.
func alreadyStopping(err error) bool {
	var ae *control.APIError
	return errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable
}
