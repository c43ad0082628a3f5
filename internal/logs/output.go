package logs

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
)

// Output is the master's own stdout or stderr, made safe to lose: a
// reader that goes away (`baton run | head`, a log shipper restarted, a
// closed terminal) must never stop or kill the master. Its Write never
// returns an error; a write that fails is counted as lost instead. With
// SIGPIPE ignored (the master does that at start), a write to a closed pipe
// fails at once with EPIPE, so a lost output costs nothing.
//
// A queued Output (NewQueuedOutput) also survives a reader that stays but
// stops reading (a terminal paused with Ctrl-S, a stalled log shipper):
// lines wait in a bounded queue written from its own goroutine, and when
// the queue is full new lines are dropped and counted, so neither the
// master nor the workers whose output it carries ever block on it.
type Output struct {
	w    io.Writer
	lost atomic.Uint64

	// Queued outputs only.
	mu      sync.Mutex // guards closed against the queue being closed
	q       chan []byte
	closed  bool
	written chan struct{} // closed when the writer goroutine has ended
}

// NewOutput wraps w, usually os.Stdout or os.Stderr; writes go straight
// through.
func NewOutput(w io.Writer) *Output { return &Output{w: w} }

// NewQueuedOutput wraps w with a queue of up to size pending writes.
// Close it to flush.
func NewQueuedOutput(w io.Writer, size int) *Output {
	o := &Output{w: w, q: make(chan []byte, size), written: make(chan struct{})}
	go o.writeQueued()
	return o
}

// Write writes p and reports len(p), nil whatever happens; a write that
// fails, is short, or finds the queue full counts one in Lost.
func (o *Output) Write(p []byte) (int, error) {
	if o.q != nil && o.enqueue(p) {
		return len(p), nil
	}
	o.writeNow(p)
	return len(p), nil
}

// enqueue queues a copy of p and reports whether the queue took it (or
// dropped it as full); false means the output was closed.
func (o *Output) enqueue(p []byte) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return false
	}
	select {
	case o.q <- append([]byte(nil), p...):
	default:
		o.lost.Add(1)
	}
	return true
}

func (o *Output) writeNow(p []byte) {
	if n, err := o.w.Write(p); err != nil || n < len(p) {
		o.lost.Add(1)
	}
}

func (o *Output) writeQueued() {
	defer close(o.written)
	for p := range o.q {
		o.writeNow(p)
	}
}

// Close flushes a queued output until ctx ends; later writes go straight
// through. Lines still queued when ctx ends count as lost. It does nothing
// for an unqueued output.
func (o *Output) Close(ctx context.Context) error {
	if o.q == nil {
		return nil
	}
	o.mu.Lock()
	if !o.closed {
		o.closed = true
		close(o.q)
	}
	o.mu.Unlock()
	select {
	case <-o.written:
		return nil
	case <-ctx.Done():
		o.lost.Add(uint64(len(o.q)))
		return ctx.Err()
	}
}

// Lost is how many writes failed or were dropped: lines of worker output
// or master log records that never reached the reader.
func (o *Output) Lost() uint64 { return o.lost.Load() }
