package worker

import (
	"context"
	"os"
	"time"

	"github.com/batonhq/baton/internal/wire"
)

// WatchdogInterval returns how often the supervisor wants to hear
// WATCHDOG=1 from this process (baton's --watchdog, systemd's
// WatchdogSec=): WATCHDOG_USEC, when WATCHDOG_PID is unset or names this
// process, as sd_watchdog_enabled reads them. It is 0 when no watchdog is
// on; a malformed WATCHDOG_USEC is an error.
func WatchdogInterval() (time.Duration, error) {
	return wire.ParseWatchdog(os.Getenv, os.Getpid())
}

// Watchdog sends WATCHDOG=1 every half of WatchdogInterval (systemd's
// advice) until ctx ends, and then returns nil; it returns at once when
// no watchdog is on. When check is not nil it runs before each ping, with
// a context ending at the next one, and a ping is sent only when it
// returns nil: make it prove that the server does its work (a query of
// its database, a request to itself), and a server that deadlocks stops
// pinging and is replaced. A ping that cannot be sent is dropped; the
// next one is tried on time.
//
// Serve and Run start it themselves once the server is ready (see
// WatchdogCheck); call it directly only with WithoutNotify.
func Watchdog(ctx context.Context, check func(context.Context) error) error {
	interval, err := WatchdogInterval()
	if err != nil || interval <= 0 {
		return err
	}
	every := interval / 2
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if alive(ctx, check, every) {
			_ = Notify("WATCHDOG=1")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// alive runs check, if any, bounded by timeout.
func alive(ctx context.Context, check func(context.Context) error, timeout time.Duration) bool {
	if check == nil {
		return true
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return check(cctx) == nil && ctx.Err() == nil
}
