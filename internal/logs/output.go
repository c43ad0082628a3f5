package logs

import (
	"io"
	"sync/atomic"
)

// Output is the master's own stdout or stderr, made safe to lose: a
// reader that goes away (`baton run | head`, a log shipper restarted, a
// closed terminal) must never stop or kill the master. Its Write never
// returns an error; a write that fails is counted as lost instead. With
// SIGPIPE ignored (the master does that at start), a write to a closed pipe
// fails at once with EPIPE, so a lost output costs nothing.
type Output struct {
	w    io.Writer
	lost atomic.Uint64
}

// NewOutput wraps w, usually os.Stdout or os.Stderr.
func NewOutput(w io.Writer) *Output { return &Output{w: w} }

// Write writes p to the underlying writer and reports len(p), nil whatever
// happens; a failed or short write counts one in Lost.
func (o *Output) Write(p []byte) (int, error) {
	if n, err := o.w.Write(p); err != nil || n < len(p) {
		o.lost.Add(1)
	}
	return len(p), nil
}

// Lost is how many writes failed: lines of worker output or master log
// records that never reached the reader.
func (o *Output) Lost() uint64 { return o.lost.Load() }
