package master

import (
	"fmt"

	"github.com/batonhq/baton/internal/config"
	"golang.org/x/sys/unix"
)

// Descriptors a master needs, measured (e2e TestBadInputFDLimitTooLow):
// about 12 of its own (control socket and lock, guardian pipe, epoll,
// /dev/null, ...), one per listening socket, and five per worker (its
// output pipes, two pidfds and its notify socket). The slack covers a
// worker being spawned and a few control connections.
const (
	fdsBase      = 12
	fdsPerWorker = 5
	fdsSlack     = 8
)

// FDsNeeded is the fewest open descriptors a master with cfg and n
// workers runs with, a rollout's surge (--parallel new workers) included.
func FDsNeeded(cfg config.Config, n int) uint64 {
	return uint64(fdsBase + len(cfg.Listen) + fdsPerWorker*(n+cfg.Parallel) + fdsSlack)
}

// fdLimit is the master's open-file limit (Go raises the soft limit to
// the hard one at start, so this is what the master can use).
func fdLimit() (uint64, bool) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == unix.RLIM_INFINITY {
		return 0, false
	}
	return lim.Cur, true
}

// checkFDLimit refuses n workers that the open-file limit cannot hold:
// better one clear line at start than workers failing to spawn, one by
// one, with the slot backing off.
func checkFDLimit(cfg config.Config, n int) error {
	limit, ok := fdLimit()
	need := FDsNeeded(cfg, n)
	if !ok || limit >= need {
		return nil
	}
	return fmt.Errorf("the open-file limit is %d, too low for %s and %s: the master needs at least %d descriptors (raise it with `ulimit -n %d`, or LimitNOFILE= under systemd)",
		limit, plural(n, "worker"), plural(len(cfg.Listen), "listening socket"), need, need)
}

// plural is "1 worker", "2 workers".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
