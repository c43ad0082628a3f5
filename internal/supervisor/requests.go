package supervisor

import (
	"context"
	"fmt"
)

// request is a control request served on the Run goroutine.
type request interface{ serve(s *Supervisor) }

// ask posts r and waits for it to be taken, honouring ctx.
func (s *Supervisor) ask(ctx context.Context, r request) error {
	select {
	case s.events <- r:
		return nil
	case <-s.done:
		return ErrStopping
	case <-ctx.Done():
		return fmt.Errorf("send request to supervisor: %w", ctx.Err())
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
	return <-r.reply, nil
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

func (r scaleRequest) serve(s *Supervisor) {
	switch {
	case s.stopping:
		r.reply <- Refused(ErrStopping.Error())
	case s.rollout != nil:
		r.reply <- Refused(fmt.Sprintf("rollout %d is running (%s): scale after it ends", s.rollout.id, s.rollout.progressText()))
	case r.n < 1 || r.n > 1024:
		r.reply <- Refused(fmt.Sprintf("%d workers is out of range: valid is 1..1024", r.n))
	default:
		s.scale(r.n)
		r.reply <- nil
	}
}

// Scale changes the number of workers.
func (s *Supervisor) Scale(ctx context.Context, n int) error {
	r := scaleRequest{n: n, reply: make(chan error, 1)}
	if err := s.ask(ctx, r); err != nil {
		return err
	}
	return <-r.reply
}

// signalScale handles SIGTTIN/SIGTTOU.
func (s *Supervisor) signalScale(delta int) {
	r := scaleRequest{n: len(s.slots) + delta, reply: make(chan error, 1)}
	r.serve(s)
	if err := <-r.reply; err != nil {
		s.log.Warn("scale signal ignored", "reason", err.Error())
	}
}

// RefusedError is a request refused before anything changed.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "refused: " + e.Reason }

// Refused returns a *RefusedError.
func Refused(reason string) error { return &RefusedError{Reason: reason} }
