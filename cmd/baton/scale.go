package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/batonhq/baton/internal/config"
	"github.com/spf13/cobra"
)

// negativeArg finds a negative number that the flag parser took for a flag.
var negativeArg = regexp.MustCompile(`in (-[0-9]+)$`)

func newScaleCmd() *cobra.Command {
	var t target
	c := &cobra.Command{
		Use:   "scale N",
		Short: "change the number of workers (new ones start, extra ones drain)",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("scale: want one worker count (1..%d), e.g. baton scale 4; got %d arguments", config.MaxWorkers, len(args))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			n, err := parseWorkers(args[0])
			if err != nil {
				return fail(exitUsage, err)
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
	c.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if m := negativeArg.FindStringSubmatch(err.Error()); m != nil {
			return fail(exitUsage, fmt.Errorf("scale: %q is not a worker count: valid is 1..%d", m[1], config.MaxWorkers))
		}
		return fail(exitUsage, fmt.Errorf("scale: %w (see baton scale --help)", config.FlagError(err)))
	})
	t.bind(c)
	return c
}

// parseWorkers reads a worker count as the command line gives it.
func parseWorkers(arg string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(arg))
	if err != nil {
		return 0, fmt.Errorf("scale: %q is not a worker count: valid is 1..%d", arg, config.MaxWorkers)
	}
	if err := config.CheckWorkers(n); err != nil {
		return 0, fmt.Errorf("scale: %w", err)
	}
	return n, nil
}
