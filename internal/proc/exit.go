package proc

import (
	"os"
	"strconv"
	"syscall"
)

// Exit is how a worker's main process ended.
type Exit struct {
	Code   int            // exit status, when it exited
	Signal syscall.Signal // the signal that killed it, else 0
	// Orphans counts processes it left behind that still held its output
	// pipes after OutputGrace (a daemonized child, say); the master closed
	// its ends of the pipes.
	Orphans int
	// OrphansKilled says the Orphans were processes that had left its
	// process group, found in its cgroup and killed with it.
	OrphansKilled bool
}

// Signaled reports whether a signal ended the process.
func (e Exit) Signaled() bool { return e.Signal != 0 }

// String renders the exit as "exit status 1" or "signal killed".
func (e Exit) String() string {
	if e.Signal != 0 {
		return "signal " + e.Signal.String()
	}
	return "exit status " + strconv.Itoa(e.Code)
}

// ExitOf reads a reaped process's state.
func ExitOf(ps *os.ProcessState) Exit {
	if ps == nil {
		return Exit{Code: -1}
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return Exit{Signal: ws.Signal()}
	}
	return Exit{Code: ps.ExitCode()}
}
