package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/batonhq/baton/internal/demo"
	"github.com/spf13/cobra"
)

func newDemoCmd() *cobra.Command {
	var o demo.Options
	var htmlPath string
	c := &cobra.Command{
		Use:   "demo [--duration D] [--workers N] [--port P] [--html FILE]",
		Short: "a self-contained demonstration under load, measured; exit 0 only if no request failed",
		Long: "Runs a master with the built-in example server as its workers on a loopback port, drives keep-alive\n" +
			"load with a client that never retries, and meanwhile rolls the workers, kills one with SIGKILL,\n" +
			"deploys a broken build (refused: the old workers keep serving) and upgrades the master itself.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkDemoOptions(o); err != nil {
				return fail(exitUsage, err)
			}
			exe, err := os.Executable()
			if err != nil {
				return fail(exitFailed, err)
			}
			o.Exe, o.Out, o.Live = exe, c.OutOrStdout(), isTerminal(c.OutOrStdout())
			// SIGPIPE (`baton demo | head`) and SIGHUP (the terminal went
			// away) end the demo like Ctrl-C, so that it stops the masters
			// it started instead of dying and leaving them running.
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGPIPE, syscall.SIGHUP)
			defer stop()
			rep, err := demo.Run(ctx, o)
			if err != nil {
				return fail(exitFailed, err)
			}
			return demoResult(c, rep, htmlPath)
		},
	}
	c.Flags().DurationVar(&o.Duration, "duration", 30*time.Second, "how long the load runs")
	c.Flags().IntVarP(&o.Workers, "workers", "w", 4, "worker count")
	c.Flags().IntVar(&o.Port, "port", 0, "loopback port to serve on (default: a free one)")
	c.Flags().StringVar(&htmlPath, "html", "", "also write a self-contained HTML report with the timeline as an SVG chart")
	return c
}

// checkDemoOptions refuses what the demo cannot run, rather than running
// its defaults instead.
func checkDemoOptions(o demo.Options) error {
	switch {
	case o.Duration <= 0:
		return fmt.Errorf("--duration: %s is not a duration the demo can run: want more than 0, e.g. 30s (the events are spread over it)", o.Duration)
	case o.Workers < 1 || o.Workers > 64:
		return fmt.Errorf("--workers: %d is out of range: valid is 1..64 for the demo", o.Workers)
	case o.Port < 0 || o.Port > 65535:
		return fmt.Errorf("--port: %d is not a port: valid is 1..65535, or 0 for a free one", o.Port)
	}
	return nil
}

func demoResult(c *cobra.Command, rep demo.Report, htmlPath string) error {
	rep.Print(c.OutOrStdout())
	if htmlPath != "" {
		if err := rep.WriteHTML(htmlPath); err != nil {
			return fail(exitFailed, err)
		}
	}
	if !rep.Promised {
		if rep.MasterLog != "" {
			c.PrintErrln("the master's output:\n" + rep.MasterLog)
		}
		return fail(exitFailed, errors.New("demo: a request failed or an event did not do what it should"))
	}
	return nil
}
