package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/batonhq/baton/internal/control"
	"github.com/batonhq/baton/internal/supervisor"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// target is how a client command finds its master.
type target struct{ name, path string }

func (t *target) bind(c *cobra.Command) {
	c.Flags().StringVar(&t.name, "name", "", "the master's --name")
	c.Flags().StringVar(&t.path, "control", "", "the master's control socket `PATH` (also $BATON_CONTROL)")
}

func (t *target) client() (*control.Client, error) {
	path, err := control.Find(t.path, t.name)
	if err != nil {
		return nil, fail(exitNoMaster, err)
	}
	return control.NewClient(path), nil
}

// status finds the master and fetches its status.
func (t *target) status(ctx context.Context) (*control.Client, supervisor.Status, error) {
	cl, err := t.client()
	if err != nil {
		return nil, supervisor.Status{}, err
	}
	st, err := cl.Status(ctx)
	if err != nil {
		return nil, st, apiError(err)
	}
	return cl, st, nil
}

// apiError maps an error from the master to an exit code.
func apiError(err error) error {
	var ae *control.APIError
	switch {
	case control.IsRefused(err):
		return fail(exitRefused, fmt.Errorf("refused, nothing changed: %w", err))
	case errors.As(err, &ae):
		return fail(exitFailed, err)
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ECONNREFUSED):
		return fail(exitNoMaster, err)
	}
	return fail(exitFailed, err)
}

func newStatusCmd() *cobra.Command {
	var t target
	var asJSON bool
	c := &cobra.Command{
		Use:   "status [--json]",
		Short: "show the master, its sockets, workers and last rollout",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, st, err := t.status(c.Context())
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(c.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			printStatus(c.OutOrStdout(), st)
			return nil
		},
	}
	t.bind(c)
	c.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return c
}

func printStatus(out io.Writer, st supervisor.Status) {
	state := "running"
	if st.Stopping {
		state = "stopping"
	}
	fmt.Fprintf(out, "master %s: pid %d, %s, up %s, generation %d, %d workers wanted\n",
		st.Name, st.PID, state, seconds(st.Uptime), st.Generation, st.Desired)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOCKET\tFD\tADDRESS")
	for _, s := range st.Sockets {
		addr := s.Address
		if s.Network == "unix" {
			addr = "unix:" + addr
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", s.Name, s.FD, addr)
	}
	fmt.Fprintln(tw, "\nSLOT\tPID\tGEN\tSTATE\tUPTIME\tRESTARTS\tSTATUS\tDIR")
	for _, w := range st.Workers {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%d\t%s\t%s\n", w.Slot, w.PID, w.Generation, w.State,
			seconds(w.Uptime), w.Restarts, orDash(w.Status), w.Dir)
	}
	tw.Flush()
	if r := st.Rollout; r != nil {
		fmt.Fprintf(out, "\nrollout %d (%s, %s): %s, %d of %d replaced in %s, %d killed after --stop-timeout\n",
			r.ID, r.Trigger, r.Strategy, r.State, r.Replaced, r.Total, seconds(r.Seconds), r.Killed)
		if r.Error != "" {
			fmt.Fprintf(out, "  error: %s\n", r.Error)
		}
	}
}

func seconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Second / 10).String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newStopCmd() *cobra.Command {
	var t target
	var force, noWait bool
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
			return waitGone(c.Context(), st.PID)
		},
	}
	t.bind(c)
	c.Flags().BoolVar(&force, "force", false, "kill the workers at once instead of draining them")
	c.Flags().BoolVar(&noWait, "no-wait", false, "return once the stop has begun")
	return c
}

// waitGone waits until pid has exited.
func waitGone(ctx context.Context, pid int) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for unix.Kill(pid, 0) == nil {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

func newReloadCmd() *cobra.Command {
	var t target
	var strategy string
	c := &cobra.Command{
		Use:   "reload [--strategy surge|replace]",
		Short: "rolling restart of every worker; streams progress; exit 0 done, 1 failed, 4 refused",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if strategy != "" && strategy != "surge" && strategy != "replace" {
				return fail(exitUsage, fmt.Errorf("--strategy: %q is not valid: valid is surge or replace", strategy))
			}
			cl, err := t.client()
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			st, err := cl.Reload(c.Context(), strategy, func(p supervisor.Progress) {
				if p.Step != "done" && p.Step != "failed" || p.Slot >= 0 {
					fmt.Fprintln(out, p.Text)
				}
			})
			if err != nil {
				return apiError(err)
			}
			if st.State != "done" {
				return fail(exitFailed, fmt.Errorf("rollout %d failed: %s", st.ID, st.Error), indent(st.Output)...)
			}
			fmt.Fprintf(out, "rollout %d done: %d workers replaced in %s, %d killed after --stop-timeout\n",
				st.ID, st.Replaced, supervisor.Took(st.Seconds), st.Killed)
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

func newScaleCmd() *cobra.Command {
	var t target
	c := &cobra.Command{
		Use:   "scale N",
		Short: "change the number of workers (new ones start, extra ones drain)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			n, err := strconv.Atoi(strings.TrimSpace(args[0]))
			if err != nil || n < 1 || n > 1024 {
				return fail(exitUsage, fmt.Errorf("scale: %q is not a worker count: valid is 1..1024", args[0]))
			}
			cl, err := t.client()
			if err != nil {
				return err
			}
			if err := cl.Scale(c.Context(), n); err != nil {
				return apiError(err)
			}
			fmt.Fprintf(c.OutOrStdout(), "scaling to %d workers\n", n)
			return nil
		},
	}
	t.bind(c)
	return c
}
