package proc

import (
	"regexp"
	"syscall"
	"time"

	"github.com/batonhq/baton/internal/config"
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
	// Watchdog, with Notify, is put in its environment as WATCHDOG_USEC
	// (and WATCHDOG_PID, its own pid): it must send WATCHDOG=1 at least
	// this often. Proxy mode without Notify probes it instead.
	Watchdog time.Duration
	// ReadyOutput, when set, is matched against each line of the worker's
	// stdout and stderr until one matches, which is reported to onNotify
	// as READY=1: the same path as a notify datagram.
	ReadyOutput *regexp.Regexp
	Ready       config.Readiness
	// Proxy mode only: the variable that carries the worker's private
	// port, and how long a leaving worker's connections may take.
	PortEnv      string
	DrainTimeout time.Duration
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
	// Continue sends SIGCONT to the process group, so that a stopped
	// worker (SIGSTOP, a debugger's stop) can act on its stop signal.
	Continue()
	// Release frees what the launcher holds for it (its notify socket)
	// once it has exited. Safe to call more than once.
	Release()
}

// NotReadyExplainer is a Process that can say why it is not ready yet,
// such as the last failure of baton's own readiness probe of it (proxy
// mode); "" when it cannot tell. It must not block.
type NotReadyExplainer interface {
	NotReadyBecause() string
}

// ReadyObserver is a Process that is told when the supervisor counts it
// ready (proxy mode puts it in rotation then). MarkedReady is called on
// the supervisor's goroutine and must not block.
type ReadyObserver interface {
	MarkedReady()
}

// RotationLeaver is a Process behind baton's proxy that can be taken out
// of the rotation before its drain: a hung worker, at once, while its
// replacement starts. It then takes no new connection or request, and
// its drain comes as usual with the stop signal.
type RotationLeaver interface {
	LeaveRotation()
}

// RequestLimiter is a Process behind baton's HTTP proxy that counts the
// requests it is sent: reached is called once (from any goroutine) when
// the count reaches n.
type RequestLimiter interface {
	LimitRequests(n uint64, reached func())
}

// ProxyReporter is a Process behind baton's proxy: its private port and
// what it serves now, for status.
type ProxyReporter interface {
	ProxyStatus() ProxyStatus
}

// ProxyStatus is one proxied worker's figures.
type ProxyStatus struct {
	Port       int    `json:"port"`
	Open       int64  `json:"open"`        // open connections (tcp) or requests in flight (http)
	Served     uint64 `json:"served"`      // connections or requests it took
	InRotation bool   `json:"in_rotation"` // new connections or requests may go to it
}
