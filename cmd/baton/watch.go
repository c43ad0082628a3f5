package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// watchStatus redraws the status every interval until interrupted: in
// place on a terminal, as successive blocks (JSON lines with --json)
// otherwise. A master that goes away ends it with exit 3.
func watchStatus(c *cobra.Command, t *target, v statusView) error {
	if v.interval <= 0 {
		return fail(exitUsage, fmt.Errorf("--interval: %s must be greater than 0", v.interval))
	}
	ctx, stop := signal.NotifyContext(c.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	out := c.OutOrStdout()
	tty := isTerminal(out)
	tick := time.NewTicker(v.interval)
	defer tick.Stop()
	for {
		_, st, err := t.status(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		var frame bytes.Buffer
		if tty {
			frame.WriteString("\x1b[H\x1b[2J") // home, clear: one redraw in place
		}
		_ = v.print(&frame, st)
		if !tty && !v.asJSON {
			frame.WriteString("\n")
		}
		_, _ = out.Write(frame.Bytes())
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
