package supervisor

import (
	"context"
	"fmt"

	"github.com/batonhq/baton/internal/config"
)

// request is a control request served on the Run goroutine.
type request interface{ serve(s *Supervisor) }

// ask posts r and waits for it to be taken, honouring ctx.
func (s *Supervisor) ask(ctx context.Context, r request) error {
	select {
	case s.events <- r:
		return nil
	case <-s.done:
		return refuseStopping()
	case <-ctx.Done():
		return fmt.Errorf("send request to supervisor: %w", ctx.Err())
	}
}

// await waits for the answer to a request that was posted, or for Run to
// end (a request posted just before the end may never be served).
func await[T any](s *Supervisor, ctx context.Context, reply <-chan T) (T, error) {
	var zero T
	select {
	case v := <-reply:
		return v, nil
	case <-s.done:
		return zero, refuseStopping()
	case <-ctx.Done():
		return zero, fmt.Errorf("wait for the supervisor's answer: %w", ctx.Err())
	}
}

type statusRequest struct{ reply chan Status }

func (r statusRequest) serve(s *Supervisor) { r.reply <- s.snapshot() }

// Status returns a snapshot of the master and its workers.
func (s *Supervisor) Status(ctx context.Context) (Status, error) {
	r := statusRequest{reply: make(chan Status, 1)}
	if err := s.ask(ctx, r); err != nil {
		return Status{}, err
	}
	return await(s, ctx, r.reply)
}

type stopRequest struct{ force bool }

func (r stopRequest) serve(s *Supervisor) { s.beginStop(r.force) }

// Stop starts a graceful stop (or, with force, kills every worker). It
// returns once the stop has begun; Run returns when it is complete.
func (s *Supervisor) Stop(ctx context.Context, force bool) error {
	return s.ask(ctx, stopRequest{force: force})
}

type scaleRequest struct {
	n     int
	reply chan error
}

func (r scaleRequest) serve(s *Supervisor) { r.reply <- s.tryScale(r.n) }

// tryScale scales to n workers, or refuses.
func (s *Supervisor) tryScale(n int) error {
	switch {
	case s.phase.Stopping():
		return refuseStopping()
	case s.rollout != nil:
		return refuse(ErrBusy, "rollout %d is running (%s): scale after it ends", s.rollout.id, s.rollout.progressText())
	}
	if err := config.CheckWorkers(n); err != nil {
		return refuse(ErrInvalid, "%v", err)
	}
	s.scale(n)
	return nil
}

// Scale changes the number of workers.
func (s *Supervisor) Scale(ctx context.Context, n int) error {
	r := scaleRequest{n: n, reply: make(chan error, 1)}
	if err := s.ask(ctx, r); err != nil {
		return err
	}
	err, aerr := await(s, ctx, r.reply)
	if aerr != nil {
		return aerr
	}
	return err
}

// signalScale handles SIGTTIN/SIGTTOU.
func (s *Supervisor) signalScale(delta int) {
	if err := s.tryScale(len(s.slots) + delta); err != nil {
		s.note(levelWarn, "scale signal ignored: %v", err)
	}
}
