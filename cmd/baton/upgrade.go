package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

func newUpgradeCmd() *cobra.Command {
	var t target
	c := &cobra.Command{
		Use:   "upgrade",
		Short: "replace the master process itself without closing a socket; exit 0 done, 1 failed (old master kept), 4 refused",
		Long: "Starts a new master from the binary path the master was started from (it may hold a new baton), with the\n" +
			"same arguments and a re-read config, hands it every socket, and once all its workers are ready the old\n" +
			"master drains its own and exits. A new master that fails is killed; the old one keeps serving.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cl, err := t.client()
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			rep, err := cl.Upgrade(c.Context(), func(line string) { fmt.Fprintln(out, line) })
			if err != nil {
				return apiError(err)
			}
			if !rep.OK && rep.Stopping {
				return fail(exitFailed, errors.New("upgrade abandoned, the master is stopping: "+rep.Error))
			}
			if !rep.OK {
				return fail(exitFailed, errors.New("upgrade failed, the old master keeps serving: "+rep.Error))
			}
			fmt.Fprintf(out, "upgrade done: master pid %d (%s) serves, in %s\n", rep.PID, rep.Binary, seconds(rep.Seconds))
			return nil
		},
	}
	t.bind(c)
	return c
}
