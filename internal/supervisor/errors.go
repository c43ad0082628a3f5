package supervisor

import (
	"errors"
	"fmt"
)

// Why a request was refused. A *RefusedError wraps one of these, so
// errors.Is tells the cause apart; the master's state is unchanged.
var (
	// ErrStopping: the master is stopping and takes no more work.
	ErrStopping = errors.New("the master is stopping")
	// ErrBusy: a rollout is running.
	ErrBusy = errors.New("a rollout is running")
	// ErrInvalid: the request asks for something not valid (a strategy,
	// a worker count).
	ErrInvalid = errors.New("the request is not valid")
	// ErrUnsafe: doing it would leave nothing serving.
	ErrUnsafe = errors.New("unsafe")
	// ErrConfig: the configuration, re-read for a rollout, is not valid.
	ErrConfig = errors.New("the configuration is not valid")
	// ErrIncompatible: the change needs a new master (the compatibility
	// token or the listen sockets changed).
	ErrIncompatible = errors.New("the change needs a new master")
)

// RefusedError is a request refused before anything changed.
type RefusedError struct {
	Cause  error  // one of the Err values above
	Reason string // the whole reason, for people
}

func (e *RefusedError) Error() string { return "refused: " + e.Reason }

// Unwrap returns the cause, for errors.Is.
func (e *RefusedError) Unwrap() error { return e.Cause }

// refuse returns a *RefusedError for cause with a formatted reason.
func refuse(cause error, format string, args ...any) error {
	return &RefusedError{Cause: cause, Reason: fmt.Sprintf(format, args...)}
}

// refuseStopping is the refusal of every request once a stop began.
func refuseStopping() error { return refuse(ErrStopping, "%s", ErrStopping.Error()) }
