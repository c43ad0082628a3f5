package proc

import (
	"regexp"
	"syscall"

	"github.com/batonhq/baton/internal/wire"
)

// Launcher starts worker processes and reports what becomes of them. It is
// the supervisor's whole view of the operating system's processes: OS is
// the real one; the supervisor's unit tests use a fake.
type Launcher interface {
	// Launch starts a worker. Afterwards onNotify receives each notify
	// datagram, and READY=1 once a line of its output matches
	// Launch.ReadyOutput; onExit is called once, when the process has
	// exited and its output has been read (or OutputGrace passed). Both
	// may be called from any goroutine.
	Launch(l Launch, onNotify func(wire.Notify), onExit func(Exit)) (Process, error)
}

// Launch describes one worker to start.
type Launch struct {
	ID         int // unique per master
	Slot       int
	Generation int
	Command    []string
	Env        []string // user additions, KEY=VAL
	Dir        string   // as configured; symlinks are resolved at launch
	Notify     bool     // give it a private NOTIFY_SOCKET
	// ReadyOutput, when set, is matched against each line of the worker's
	// stdout and stderr until one matches, which is reported to onNotify
	// as READY=1: the same path as a notify datagram.
	ReadyOutput *regexp.Regexp
}

// Process is a started worker.
type Process interface {
	PID() int
	// Dir is the working directory it runs in (symlinks resolved).
	Dir() string
	// Signal sends sig to the main process.
	Signal(sig syscall.Signal) error
	// KillGroup SIGKILLs the process group: the main process and every
	// child it left behind. Safe to call at any time, and more than once.
	KillGroup()
	// Tail returns the last lines it wrote.
	Tail() []string
	// Release frees what the launcher holds for it (its notify socket)
	// once it has exited. Safe to call more than once.
	Release()
}
