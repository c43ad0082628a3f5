package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/control"
	"github.com/batonhq/baton/internal/supervisor"
	"github.com/spf13/cobra"
)

// target is how a client command finds its master and how long it waits
// for an answer.
type target struct {
	name, path string
	answer     time.Duration
}

func (t *target) bind(c *cobra.Command) {
	c.Flags().StringVar(&t.name, "name", "", "the master's --name")
	c.Flags().StringVar(&t.path, "control", "", "the master's control socket `PATH` (also $BATON_CONTROL)")
	c.Flags().DurationVar(&t.answer, "answer-timeout", control.DefaultAnswerTimeout, "how long to wait for the master to begin answering")
}

func (t *target) client() (*control.Client, error) {
	if t.answer <= 0 {
		return nil, fail(exitUsage, fmt.Errorf("--answer-timeout: %s must be greater than 0", t.answer))
	}
	if t.name != "" {
		if err := config.CheckName(t.name); err != nil {
			return nil, fail(exitUsage, err)
		}
	}
	path, err := control.Find(t.path, t.name)
	if errors.Is(err, control.ErrAmbiguous) { // masters were found: which one is for the user to say
		return nil, fail(exitUsage, err)
	}
	if err != nil {
		return nil, fail(exitNoMaster, err)
	}
	return control.NewClientTimeout(path, t.answer), nil
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
	case control.IsGone(err):
		return fail(exitNoMaster, err)
	}
	return fail(exitFailed, err)
}
