package supervisor

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/batonhq/baton/internal/logs"
	"github.com/batonhq/baton/internal/proc"
	"github.com/batonhq/baton/internal/sockets"
	"github.com/batonhq/baton/internal/wire"
)

// worker is one child process. Only the supervisor goroutine reads or
// writes its fields; the goroutines started in spawn only post events.
type worker struct {
	id, slot, gen int
	spec          *Spec
	pid           int
	dir           string // resolved working directory
	state         State
	started       time.Time
	readyAt       time.Time
	drainAt       time.Time
	exitAt        time.Time
	status        string
	tail          *logs.Tail
	notify        *net.UnixConn
	notifyPath    string
	timers        []*time.Timer
	stopAsked     bool   // the master asked it to exit: not a crash
	failure       string // why it failed to become ready, if it did
	killed        bool   // SIGKILLed after the stop timeout
	exit          string // how it exited, once exited
}

// exitEvent reports a worker's process has exited and its output is read.
type exitEvent struct {
	w     *worker
	state *os.ProcessState
}

// notifyEvent carries one notify datagram from a worker.
type notifyEvent struct {
	w   *worker
	msg wire.Notify
}

// timerKind names a worker's deadline.
type timerKind int

const (
	readyDeadline timerKind = iota // --ready-timeout passed
	readyDelay                     // --ready delay:DUR passed
	stopDeadline                   // --stop-timeout passed
)

type timerEvent struct {
	w    *worker
	kind timerKind
}

// spawn starts a worker process for slot running spec.
func (s *Supervisor) spawn(slot int, spec *Spec) (*worker, error) {
	s.nextID++
	w := &worker{id: s.nextID, slot: slot, gen: spec.Generation, spec: spec, tail: logs.NewTail()}
	cmd, err := s.command(w)
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("spawn slot %d: stdout pipe: %w", slot, err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("spawn slot %d: stderr pipe: %w", slot, err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	err = s.opts.Spawner.Start(cmd)
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		s.closeNotify(w)
		return nil, fmt.Errorf("spawn slot %d: %w", slot, err)
	}
	w.pid = cmd.Process.Pid
	w.started = s.now()
	if s.opts.Guardian != nil {
		s.opts.Guardian.Watch(w.pid)
	}
	var output sync.WaitGroup
	for _, p := range []struct {
		r      *os.File
		stream string
	}{{outR, "stdout"}, {errR, "stderr"}} {
		output.Add(1)
		o := logs.Origin{Name: s.opts.Name, Slot: slot, PID: w.pid, Stream: p.stream}
		go func(r *os.File) { defer output.Done(); logs.Capture(r, s.opts.Output, o, w.tail) }(p.r)
	}
	go s.wait(w, cmd, &output)
	if w.notify != nil {
		go s.readNotify(w, w.notify)
	}
	s.workers[w.id] = w
	s.armStart(w)
	return w, nil
}

// command builds the exec.Cmd of w: the shim of baton's own binary, which
// sets LISTEN_PID and execs the user's command.
func (s *Supervisor) command(w *worker) (*exec.Cmd, error) {
	spec := w.spec
	dir := spec.Dir
	if dir != "" {
		resolved, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return nil, fmt.Errorf("spawn slot %d: resolve --dir %s: %w", w.slot, dir, err)
		}
		dir = resolved
	}
	if dir == "" {
		dir, _ = os.Getwd()
	}
	w.dir = dir
	env := append(inheritedEnv(), spec.Env...)
	env = append(env, sockets.Env(s.opts.Sockets)...)
	env = append(env, wire.EnvSlot+"="+strconv.Itoa(w.slot), wire.EnvGeneration+"="+strconv.Itoa(w.gen))
	if spec.Ready.Kind == "notify" {
		if err := s.openNotify(w); err != nil {
			return nil, err
		}
		env = append(env, wire.EnvNotifySocket+"="+w.notifyPath)
	}
	args := proc.ShimArgs(spec.Command)
	cmd := &exec.Cmd{Path: s.opts.Self, Args: args, Env: env, Dir: w.dir,
		ExtraFiles: sockets.Files(s.opts.Sockets)}
	return cmd, nil
}

// openNotify creates the worker's private NOTIFY_SOCKET.
func (s *Supervisor) openNotify(w *worker) error {
	path := filepath.Join(s.opts.NotifyDir, "w"+strconv.Itoa(w.id))
	_ = os.Remove(path)
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("spawn slot %d: notify socket: %w", w.slot, err)
	}
	w.notify, w.notifyPath = conn, path
	return nil
}

func (s *Supervisor) closeNotify(w *worker) {
	if w.notify != nil {
		w.notify.Close()
		w.notify = nil
		_ = os.Remove(w.notifyPath)
	}
}

// readNotify posts every datagram until the socket is closed.
func (s *Supervisor) readNotify(w *worker, conn *net.UnixConn) {
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.post(notifyEvent{w: w, msg: wire.ParseNotify(buf[:n])})
	}
}

// wait reaps the process, gives its output a moment to drain (a grandchild
// may hold the pipes open), and posts the exit.
func (s *Supervisor) wait(w *worker, cmd *exec.Cmd, output *sync.WaitGroup) {
	_ = cmd.Wait()
	done := make(chan struct{})
	go func() { output.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(200 * time.Millisecond):
	}
	s.post(exitEvent{w: w, state: cmd.ProcessState})
}

// armStart starts the readiness clocks of a new worker.
func (s *Supervisor) armStart(w *worker) {
	w.timers = append(w.timers, s.after(w.spec.ReadyTimeout, timerEvent{w: w, kind: readyDeadline}))
	if w.spec.Ready.Kind == "delay" {
		w.timers = append(w.timers, s.after(w.spec.Ready.Delay, timerEvent{w: w, kind: readyDelay}))
	}
}

func (s *Supervisor) stopTimers(w *worker) {
	for _, t := range w.timers {
		t.Stop()
	}
	w.timers = nil
}

// signal sends sig to the worker's main process.
func (s *Supervisor) signal(w *worker, sig syscall.Signal) {
	if err := syscall.Kill(w.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		s.log.Warn("signal worker", "slot", w.slot, "pid", w.pid, "signal", sig.String(), "err", err)
	}
}

// killGroup SIGKILLs the worker's whole process group.
func (s *Supervisor) killGroup(w *worker) {
	_ = syscall.Kill(-w.pid, syscall.SIGKILL)
}

// describeExit renders a process state as "exit status 1" or "signal: killed".
func describeExit(ps *os.ProcessState) string {
	if ps == nil {
		return "unknown"
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "signal " + ws.Signal().String()
	}
	return "exit status " + strconv.Itoa(ps.ExitCode())
}
