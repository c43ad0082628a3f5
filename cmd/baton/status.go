package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/batonhq/baton/internal/supervisor"
	"github.com/spf13/cobra"
)

func newStatusCmd() *cobra.Command {
	var t target
	var v statusView
	c := &cobra.Command{
		Use:   "status [--json] [--watch]",
		Short: "show the master, its sockets, workers (memory, CPU) and last rollout; --watch redraws it",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if v.watch {
				return watchStatus(c, &t, v)
			}
			_, st, err := t.status(c.Context())
			if err != nil {
				return err
			}
			return v.print(c.OutOrStdout(), st)
		},
	}
	t.bind(c)
	v.bind(c)
	return c
}

// newTopCmd is `baton top`: `baton status --watch`.
func newTopCmd() *cobra.Command {
	var t target
	v := statusView{watch: true}
	c := &cobra.Command{
		Use:   "top",
		Short: "the status table, redrawn live (baton status --watch)",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return watchStatus(c, &t, v) },
	}
	t.bind(c)
	c.Flags().DurationVar(&v.interval, "interval", time.Second, "how often to redraw")
	return c
}

// statusView is how the status is shown.
type statusView struct {
	asJSON   bool
	watch    bool
	interval time.Duration
}

func (v *statusView) bind(c *cobra.Command) {
	c.Flags().BoolVar(&v.asJSON, "json", false, "print the status as JSON (one line per redraw with --watch)")
	c.Flags().BoolVar(&v.watch, "watch", false, "redraw the status live (in place on a terminal) until interrupted")
	c.Flags().DurationVar(&v.interval, "interval", time.Second, "with --watch: how often to redraw")
}

func (v statusView) print(out io.Writer, st supervisor.Status) error {
	if v.asJSON {
		enc := json.NewEncoder(out)
		if !v.watch {
			enc.SetIndent("", "  ")
		}
		return enc.Encode(st)
	}
	printStatus(out, st)
	return nil
}

func printStatus(out io.Writer, st supervisor.Status) {
	fmt.Fprintf(out, "master %s: pid %d, %s, up %s, generation %d, %d workers wanted\n",
		st.Name, st.PID, st.Phase, seconds(st.Uptime), st.Generation, st.Desired)
	printMaster(out, st.Master)
	if m := st.Master; m != nil && (m.SocketsHealed > 0 || m.OutputLost > 0 || m.EventsDropped > 0) {
		fmt.Fprintf(out, "  sockets healed after a worker shut them down: %d, output writes lost: %d, events dropped: %d\n",
			m.SocketsHealed, m.OutputLost, m.EventsDropped)
	}
	printRecycled(out, st.Recycled)
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
		fmt.Fprintln(tw, "\nSLOT\tPID\tGEN\tSTATE\tUPTIME\tRESTARTS\tRSS\tCPU\tSTATUS\tDIR")
		for _, w := range st.Workers {
			fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%d\t%s\t%.1f%%\t%s\t%s\n", w.Slot, w.PID, w.Generation, w.State,
				seconds(w.Uptime), w.Restarts, mebibytes(w.RSS), w.CPU, orDash(w.Status), w.Dir)
		}
	}
	tw.Flush()
	for _, w := range st.Workers {
		if w.NotReady != "" {
			fmt.Fprintf(out, "slot %d pid %d not ready yet: %s\n", w.Slot, w.PID, w.NotReady)
		}
	}
	if r := st.Rollout; r != nil {
		fmt.Fprintf(out, "\nrollout %d (%s, %s): %s, %d of %d replaced in %s, %d killed after --stop-timeout\n",
			r.ID, r.Trigger, r.Strategy, r.State, r.Replaced, r.Total, seconds(r.Seconds), r.Killed)
		if r.Error != "" {
			fmt.Fprintf(out, "  error: %s\n", r.Error)
		}
	}
}

// printRecycled prints how many workers were recycled, by cause.
func printRecycled(out io.Writer, recycled map[supervisor.Cause]int) {
	if len(recycled) == 0 {
		return
	}
	var parts []string
	for _, c := range []supervisor.Cause{supervisor.CauseWatchdog, supervisor.CauseMemory, supervisor.CauseMaxRequests, supervisor.CauseMaxLifetime} {
		if n := recycled[c]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", c, n))
		}
	}
	fmt.Fprintf(out, "  workers recycled: %s\n", strings.Join(parts, ", "))
}

// printMaster prints baton's version and the master's upgrades: the one
// starting now, or the old master still draining after handing over.
func printMaster(out io.Writer, m *supervisor.MasterStatus) {
	if m == nil {
		return
	}
	line := "  baton " + orDash(m.Version)
	if m.Upgrades > 0 {
		line += fmt.Sprintf(", %d upgrades (this master took over at %s from pid %d)", m.Upgrades, m.UpgradedAt.Format(time.RFC3339), m.HandedOverBy)
	}
	if m.Admin != "" {
		line += ", admin " + m.Admin
	}
	if m.UpgradesFailed > 0 {
		line += fmt.Sprintf(", %d failed upgrades", m.UpgradesFailed)
	}
	fmt.Fprintln(out, line)
	if m.Containment != "" {
		fmt.Fprintf(out, "  containment: %s\n", m.Containment)
	}
	if m.RunAs != "" {
		fmt.Fprintf(out, "  workers run as %s\n", m.RunAs)
	}
	switch {
	case m.UpgradingTo != 0:
		fmt.Fprintf(out, "  upgrading: new master pid %d is starting its workers\n", m.UpgradingTo)
	case m.HandingOver != 0:
		fmt.Fprintf(out, "  old master pid %d: handing over (draining its workers)\n", m.HandingOver)
	}
}

func seconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Second / 10).String()
}

func mebibytes(b int64) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fM", float64(b)/(1<<20))
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
	if p.Steering != "" {
		fmt.Fprintf(tw, "steering: %s\n", p.Steering)
	}
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
