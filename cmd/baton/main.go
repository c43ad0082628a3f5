// Command baton is a zero-downtime process manager for network servers:
// see `baton help` and the README.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/demo"
	"github.com/batonhq/baton/internal/proc"
	"github.com/spf13/cobra"
)

// Exit codes of baton commands (PRODUCT.md).
const (
	exitOK       = 0
	exitFailed   = 1
	exitUsage    = 2
	exitNoMaster = 3
	exitRefused  = 4
)

// exitError carries an exit code with the error to print.
type exitError struct {
	code   int
	err    error
	detail []string // extra lines printed after the error
}

func (e *exitError) Error() string { return e.err.Error() }

func fail(code int, err error, detail ...string) error {
	return &exitError{code: code, err: err, detail: detail}
}

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case proc.ShimArg:
			err := proc.ExecShim(os.Args[2:])
			fmt.Fprintf(os.Stderr, "baton: %v\n", err)
			os.Exit(127)
		case "run":
			if os.Getpid() == 1 { // a container's init: reap orphans, forward signals
				exe, _ := os.Executable()
				os.Exit(proc.RunAsPID1(exe, os.Args, os.Environ()))
			}
		case demo.ServerArg:
			os.Exit(demo.ServerMain(os.Args[2:]))
		case proc.GuardArg:
			signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR2, syscall.SIGTTIN, syscall.SIGTTOU)
			proc.GuardMain(os.Stdin)
			os.Exit(0)
		}
	}
	os.Exit(run(os.Args[1:]))
}

// run executes the command line and returns the exit code.
func run(args []string) int {
	root := newRoot()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(os.Stderr, "baton: %v\n", ee.err)
		}
		for _, d := range ee.detail {
			fmt.Fprintln(os.Stderr, d)
		}
		return ee.code
	}
	fmt.Fprintf(os.Stderr, "baton: %v\n", err)
	return exitUsage
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "baton",
		Short:         "zero-downtime process manager for network servers",
		Long:          "baton binds your server's sockets once, runs N workers on them, replaces them one by one\nwithout failing a request, respawns crashes, and stops gracefully.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fail(exitUsage, fmt.Errorf("%s: %w (see baton %s --help)", c.Name(), config.FlagError(err), c.Name()))
	})
	root.AddCommand(newRunCmd(), newCheckCmd(), newStatusCmd(), newStopCmd(), newReloadCmd(), newScaleCmd(), newUpgradeCmd(), newUpgradeCheckCmd(), newLogsCmd(), newTopCmd(), newDemoCmd(), newVersionCmd())
	return root
}
