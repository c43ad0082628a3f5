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

// ProcLauncher starts real worker processes: through baton's exec shim,
// on the master's sockets, each in its own process group with a private
// NOTIFY_SOCKET and its output carried to the master's log.
type ProcLauncher struct {
	Name      string
	Sockets   []*sockets.Socket
	Self      string // path of the baton binary (for the exec shim)
	NotifyDir string // private directory for workers' NOTIFY_SOCKETs
	Spawner   *proc.Spawner
	Guardian  *proc.Guardian // may be nil
	Output    *logs.Sink
}

var _ Launcher = (*ProcLauncher)(nil)

// osProcess is a worker started by ProcLauncher.
type osProcess struct {
	pid        int
	dir        string
	tail       *logs.Tail
	notify     *net.UnixConn
	notifyPath string
	guardian   *proc.Guardian
}

func (p *osProcess) PID() int       { return p.pid }
func (p *osProcess) Dir() string    { return p.dir }
func (p *osProcess) Tail() []string { return p.tail.Lines() }

func (p *osProcess) Signal(sig syscall.Signal) error {
	if err := syscall.Kill(p.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("send %s to pid %d: %w", sig, p.pid, err)
	}
	return nil
}

func (p *osProcess) KillGroup() { _ = syscall.Kill(-p.pid, syscall.SIGKILL) }

func (p *osProcess) Release() {
	if p.notify != nil {
		p.notify.Close()
		_ = os.Remove(p.notifyPath)
		p.notify = nil
	}
	if p.guardian != nil {
		p.guardian.Forget(p.pid)
	}
}

// Launch starts the worker described by l.
func (pl *ProcLauncher) Launch(l Launch, onNotify func(wire.Notify), onExit func(string)) (Process, error) {
	p := &osProcess{tail: logs.NewTail(), guardian: pl.Guardian}
	cmd, err := pl.command(l, p)
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		p.Release()
		return nil, fmt.Errorf("spawn slot %d: stdout pipe: %w", l.Slot, err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		p.Release()
		return nil, fmt.Errorf("spawn slot %d: stderr pipe: %w", l.Slot, err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	err = pl.Spawner.Start(cmd)
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		p.guardian = nil
		p.Release()
		return nil, fmt.Errorf("spawn slot %d: %w", l.Slot, err)
	}
	p.pid = cmd.Process.Pid
	if pl.Guardian != nil {
		pl.Guardian.Watch(p.pid)
	}
	var output sync.WaitGroup
	for _, s := range []struct {
		r      *os.File
		stream string
	}{{outR, "stdout"}, {errR, "stderr"}} {
		output.Add(1)
		o := logs.Origin{Name: pl.Name, Slot: l.Slot, PID: p.pid, Stream: s.stream}
		go func(r *os.File) { defer output.Done(); logs.Capture(r, pl.Output, o, p.tail) }(s.r)
	}
	go wait(cmd, &output, onExit)
	if p.notify != nil {
		go readNotify(p.notify, onNotify)
	}
	return p, nil
}

// command builds the exec.Cmd: the shim of baton's own binary, which sets
// LISTEN_PID and execs the user's command. The command path, --dir and the
// environment are resolved afresh for every worker.
func (pl *ProcLauncher) command(l Launch, p *osProcess) (*exec.Cmd, error) {
	spec := l.Spec
	dir := spec.Dir
	if dir != "" {
		resolved, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return nil, fmt.Errorf("spawn slot %d: resolve --dir %s: %w", l.Slot, dir, err)
		}
		dir = resolved
	}
	if dir == "" {
		dir, _ = os.Getwd()
	}
	p.dir = dir
	env := append(inheritedEnv(), spec.Env...)
	env = append(env, sockets.Env(pl.Sockets)...)
	env = append(env, wire.EnvSlot+"="+strconv.Itoa(l.Slot), wire.EnvGeneration+"="+strconv.Itoa(l.Generation))
	if spec.Ready.Kind == "notify" {
		if err := pl.openNotify(l, p); err != nil {
			return nil, err
		}
		env = append(env, wire.EnvNotifySocket+"="+p.notifyPath)
	}
	return &exec.Cmd{Path: pl.Self, Args: proc.ShimArgs(spec.Command), Env: env, Dir: dir,
		ExtraFiles: sockets.Files(pl.Sockets)}, nil
}

// openNotify creates the worker's private NOTIFY_SOCKET.
func (pl *ProcLauncher) openNotify(l Launch, p *osProcess) error {
	path := filepath.Join(pl.NotifyDir, "w"+strconv.Itoa(l.ID))
	_ = os.Remove(path)
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("spawn slot %d: notify socket: %w", l.Slot, err)
	}
	p.notify, p.notifyPath = conn, path
	return nil
}

// readNotify delivers every datagram until the socket is closed.
func readNotify(conn *net.UnixConn, onNotify func(wire.Notify)) {
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		onNotify(wire.ParseNotify(buf[:n]))
	}
}

// wait reaps the process, gives its output a moment to drain (a grandchild
// may hold the pipes open), and reports the exit.
func wait(cmd *exec.Cmd, output *sync.WaitGroup, onExit func(string)) {
	_ = cmd.Wait()
	done := make(chan struct{})
	go func() { output.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(200 * time.Millisecond):
	}
	onExit(describeExit(cmd.ProcessState))
}

// describeExit renders a process state as "exit status 1" or "signal killed".
func describeExit(ps *os.ProcessState) string {
	if ps == nil {
		return "unknown"
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "signal " + ws.Signal().String()
	}
	return "exit status " + strconv.Itoa(ps.ExitCode())
}
