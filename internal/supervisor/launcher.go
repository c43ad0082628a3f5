package supervisor

import (
	"syscall"

	"github.com/batonhq/baton/internal/wire"
)

// Launcher is the supervisor's seam to the operating system: it starts
// worker processes and reports what becomes of them. ProcLauncher is the
// real one; the unit tests drive the supervisor with a fake.
type Launcher interface {
	// Launch starts a worker. Afterwards onNotify receives each notify
	// datagram and onExit is called once, when the process has exited and
	// its output has been read. Both may be called from any goroutine.
	Launch(l Launch, onNotify func(wire.Notify), onExit func(exit string)) (Process, error)
}

// Launch describes one worker to start.
type Launch struct {
	ID         int // unique per master
	Slot       int
	Generation int
	Spec       *Spec
}

// Process is a started worker.
type Process interface {
	PID() int
	// Dir is the working directory it runs in (symlinks resolved).
	Dir() string
	// Signal sends sig to the main process.
	Signal(sig syscall.Signal) error
	// KillGroup SIGKILLs the process group: the main process and every
	// child it left behind.
	KillGroup()
	// Tail returns the last lines it wrote.
	Tail() []string
	// Release frees what the launcher holds for it (its notify socket)
	// once it has exited.
	Release()
}
