package loadtest

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// Operations a failure is attributed to; they prefix the error classes.
const (
	opDial  = "dial"
	opWrite = "write"
	opRead  = "read"
)

// classify maps a failure to a short, low-cardinality class for
// Result.Errors: "dial: connection refused", "read: EOF", "timeout", ...
func classify(op string, err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		if op == opDial {
			return "dial: timeout"
		}
		return "timeout"
	case errors.Is(err, io.EOF):
		return op + ": EOF"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return op + ": unexpected EOF"
	case errors.Is(err, syscall.ECONNREFUSED):
		return op + ": connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return op + ": connection reset"
	case errors.Is(err, syscall.EPIPE):
		return op + ": broken pipe"
	}
	var oe *net.OpError
	if op == opRead && !errors.As(err, &oe) {
		// Not an I/O error: http.ReadResponse rejected what came back.
		return "read: malformed response"
	}
	return op + ": " + innermost(err).Error()
}

// innermost unwraps err down to its root cause (say, a syscall.Errno), so
// classes do not carry addresses or other per-request detail.
func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
