package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/batonhq/baton/internal/supervisor"
	"github.com/spf13/cobra"
)

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
	fmt.Fprintf(out, "master %s: pid %d, %s, up %s, generation %d, %d workers wanted\n",
		st.Name, st.PID, st.Phase, seconds(st.Uptime), st.Generation, st.Desired)
	if m := st.Master; m != nil && (m.SocketsHealed > 0 || m.OutputLost > 0 || m.EventsDropped > 0) {
		fmt.Fprintf(out, "  sockets healed after a worker shut them down: %d, output writes lost: %d, events dropped: %d\n",
			m.SocketsHealed, m.OutputLost, m.EventsDropped)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOCKET\tFD\tADDRESS")
	for _, s := range st.Sockets {
		addr := s.Address
		if s.Network == "unix" {
			addr = "unix:" + addr
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", s.Name, s.FD, addr)
	}
	if st.Proxy != nil {
		printProxyWorkers(tw, st)
	} else {
		fmt.Fprintln(tw, "\nSLOT\tPID\tGEN\tSTATE\tUPTIME\tRESTARTS\tSTATUS\tDIR")
		for _, w := range st.Workers {
			fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%d\t%s\t%s\n", w.Slot, w.PID, w.Generation, w.State,
				seconds(w.Uptime), w.Restarts, orDash(w.Status), w.Dir)
		}
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

// printProxyWorkers is the workers' table of proxy mode: each one's
// private port and its open connections (tcp) or requests in flight (http).
func printProxyWorkers(tw *tabwriter.Writer, st supervisor.Status) {
	p := st.Proxy
	fmt.Fprintf(tw, "\nproxy %s: %d workers in rotation, %d retried, %d failed, %d waited for a worker (%d gave up)\n",
		p.Kind, p.Ready, p.Retries, p.Failed, p.Waited, p.NoWorker)
	fmt.Fprintln(tw, "SLOT\tPID\tGEN\tSTATE\tUPTIME\tRESTARTS\tPORT\tOPEN\tSERVED\tSTATUS\tDIR")
	for _, w := range st.Workers {
		port, open, served := "-", "-", "-"
		if w.Proxy != nil {
			port, open, served = fmt.Sprint(w.Proxy.Port), fmt.Sprint(w.Proxy.Open), fmt.Sprint(w.Proxy.Served)
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", w.Slot, w.PID, w.Generation, w.State,
			seconds(w.Uptime), w.Restarts, port, open, served, orDash(w.Status), w.Dir)
	}
}
