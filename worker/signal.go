package worker

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// SignalContext returns a context that ends at the first SIGTERM or
// SIGINT, for Serve and Run. Once it has ended the signals are
// released, so (unless the program watches them elsewhere) a second one,
// such as an impatient Ctrl-C, terminates the process at once. stop
// releases them earlier; call it when done.
//
// Tests drive Serve and Run with a context of their own instead.
func SignalContext(parent context.Context) (ctx context.Context, stop context.CancelFunc) {
	ctx, stop = signal.NotifyContext(parent, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}
