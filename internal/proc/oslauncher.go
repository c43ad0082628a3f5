package proc

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

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/logs"
	"github.com/batonhq/baton/internal/wire"
)

// DefaultOutputGrace is how long, after a worker's main process exits,
// the master keeps reading output from processes it left behind before it
// closes its ends of the worker's pipes.
const DefaultOutputGrace = 200 * time.Millisecond

// SelfExe is how a worker is started: through the running baton binary
// itself, which the kernel keeps reachable here even when the path it was
// started from is removed or replaced (a versioned release directory
// deleted after a deploy).
const SelfExe = "/proc/self/exe"

// OS starts real worker processes: through baton's exec shim, on the
// master's sockets, each in its own process group with a private
// NOTIFY_SOCKET and its output carried to the master's log.
type OS struct {
	Name      string     // the master's name, for output lines
	Files     []*os.File // listening sockets, passed at fd 3, 4, ...
	Names     []string   // their LISTEN_FDNAMES
	NotifyDir string     // private directory for the workers' NOTIFY_SOCKETs
	Spawner   *Spawner
	Guardian  *Guardian // may be nil
	// Contain puts each worker in a cgroup of its own where it can; nil:
	// process groups only.
	Contain *Containment
	// RunAs is who the workers run as (--user, --group).
	RunAs       config.RunAs
	Output      *logs.Sink
	OutputGrace time.Duration // 0 means DefaultOutputGrace
}

var _ Launcher = (*OS)(nil)

// Launch starts the worker described by l.
func (o *OS) Launch(l Launch, onNotify func(wire.Notify), onExit func(Exit)) (Process, error) {
	p := &osProcess{tail: logs.NewTail()}
	cmd, err := o.command(l, p)
	if err != nil {
		return nil, err
	}
	pipes, err := newOutputPipes()
	if err != nil {
		p.Release()
		return nil, fmt.Errorf("spawn slot %d: %w", l.Slot, limitHint(err))
	}
	cmd.Stdout, cmd.Stderr = pipes.w[0], pipes.w[1]
	err = o.start(cmd, l, p)
	pipes.closeWriters()
	if err != nil {
		pipes.closeReaders()
		p.Release()
		return nil, fmt.Errorf("spawn slot %d: %w", l.Slot, limitHint(err))
	}
	if o.Guardian != nil {
		p.guardian = o.Guardian
		o.Guardian.Watch(p.pid, p.cgroupPath())
	}
	done := pipes.capture(o.Output, logs.Origin{Name: o.Name, Slot: l.Slot, PID: p.pid}, p.tail, readyMatch(l, onNotify))
	go o.wait(cmd, p.cgroup, pipes, done, onExit)
	if p.notify != nil {
		go readNotify(p.notify, onNotify)
	}
	return p, nil
}

// start starts cmd in its own process group, in the worker's cgroup when
// there is one, as the --user.
func (o *OS) start(cmd *exec.Cmd, l Launch, p *osProcess) error {
	cg, err := o.Contain.newWorker(l.ID)
	if err != nil {
		return err
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: credential(o.RunAs)}
	if cg != nil {
		cg.sysProcAttr(cmd.SysProcAttr)
		cmd.Env = append(cmd.Env, cg.shimEnv(o.RunAs)...)
	}
	if err := o.Spawner.Start(cmd); err != nil {
		if cg != nil {
			cg.remove()
		}
		return err
	}
	p.pid = cmd.Process.Pid
	if cg != nil {
		cg.started(p.pid)
		p.cgroup = cg
	}
	return nil
}

// command builds the exec.Cmd: the shim of baton's own binary, which sets
// LISTEN_PID and execs the user's command. The working directory and the
// environment are resolved afresh for every worker.
func (o *OS) command(l Launch, p *osProcess) (*exec.Cmd, error) {
	dir := l.Dir
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
	env := append(wire.Without(os.Environ(), wire.MasterOnly...), o.RunAs.Env()...)
	env = append(env, l.Env...)
	env = append(env, wire.ListenEnv(o.Names)...)
	env = append(env, wire.WorkerEnv(l.Slot, l.Generation)...)
	if l.Notify {
		if err := o.openNotify(l, p); err != nil {
			return nil, err
		}
		env = append(env, wire.NotifyEnv(p.notifyPath))
		if l.Watchdog > 0 {
			env = append(env, wire.WatchdogEnv(l.Watchdog))
		}
	}
	return &exec.Cmd{Path: SelfExe, Args: ShimArgs(l.Command), Env: env, Dir: dir, ExtraFiles: o.Files}, nil
}

// openNotify creates the worker's private NOTIFY_SOCKET. A notify
// directory that was removed (by hand, or by a cleaner of /tmp along with
// the control socket) is created again, mode 0700, or no worker could
// ever start again.
func (o *OS) openNotify(l Launch, p *osProcess) error {
	path := filepath.Join(o.NotifyDir, "w"+strconv.Itoa(l.ID))
	_ = os.Remove(path)
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if errors.Is(err, syscall.ENOENT) && os.MkdirAll(o.NotifyDir, 0o700) == nil {
		conn, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	}
	if err != nil {
		return fmt.Errorf("spawn slot %d: notify socket %s: %w", l.Slot, path, limitHint(err))
	}
	if err := o.shareNotify(path); err != nil {
		conn.Close()
		_ = os.Remove(path)
		return fmt.Errorf("spawn slot %d: %w", l.Slot, err)
	}
	p.notify, p.notifyPath = conn, path
	return nil
}

// wait reaps the process, kills what it left in its process group, gives
// its output a grace to drain, and reports the exit. Processes that
// escaped the group and still hold the pipes after the grace are counted
// and the master's ends are closed, so they cannot pin its descriptors.
func (o *OS) wait(cmd *exec.Cmd, cg *workerCgroup, pipes *outputPipes, done <-chan struct{}, onExit func(Exit)) {
	AwaitExit(cmd.Process.Pid, nil)
	_ = cmd.Wait()
	o.Spawner.Reaped(cmd.Process.Pid)
	exit := ExitOf(cmd.ProcessState)
	if cg != nil {
		exit.Orphans = cg.escaped(cmd.Process.Pid)
		exit.OrphansKilled = exit.Orphans > 0
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if cg != nil {
		cg.remove() // kills what is left, wherever it went
	}
	grace := o.OutputGrace
	if grace <= 0 {
		grace = DefaultOutputGrace
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		exit.Orphans = pipes.holders()
		pipes.closeReaders()
		<-done
	}
	onExit(exit)
}

// readyMatch watches the output for l.ReadyOutput and reports the first
// matching line as READY=1; nil when l has no pattern.
func readyMatch(l Launch, onNotify func(wire.Notify)) *logs.Match {
	if l.ReadyOutput == nil {
		return nil
	}
	return logs.NewMatch(l.ReadyOutput, func() { onNotify(wire.Notify{Ready: true}) })
}

// limitHint adds the open-file limit to an error caused by running out of
// file descriptors.
func limitHint(err error) error {
	if !errors.Is(err, syscall.EMFILE) && !errors.Is(err, syscall.ENFILE) {
		return err
	}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return fmt.Errorf("%w: out of file descriptors", err)
	}
	return fmt.Errorf("%w: out of file descriptors (the master's limit is %d open files: raise it with `ulimit -n` or LimitNOFILE=)", err, lim.Cur)
}

// notifyBuffers are the buffers datagrams on the notify sockets are read
// into: taken only once one has arrived, so a worker waiting to send
// READY=1 costs its socket and a goroutine, not a buffer too.
var notifyBuffers = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}

// readNotify delivers every datagram until the socket is closed.
func readNotify(conn *net.UnixConn, onNotify func(wire.Notify)) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return
	}
	for {
		var msg wire.Notify
		got := false
		err := rc.Read(func(fd uintptr) bool {
			buf := notifyBuffers.Get().(*[]byte)
			defer notifyBuffers.Put(buf)
			n, _, rerr := syscall.Recvfrom(int(fd), *buf, 0)
			switch {
			case errors.Is(rerr, syscall.EAGAIN):
				return false // wait for a datagram
			case rerr == nil && n > 0:
				msg, got = wire.ParseNotify((*buf)[:n]), true
			}
			return true // an empty datagram, or an error: read on
		})
		if err != nil {
			return // closed
		}
		if got {
			onNotify(msg)
		}
	}
}

// osProcess is a worker started by OS.
type osProcess struct {
	pid        int
	dir        string
	tail       *logs.Tail
	mu         sync.Mutex // guards notify and guardian for Release
	notify     *net.UnixConn
	notifyPath string
	guardian   *Guardian
	cgroup     *workerCgroup // nil without cgroups
}

func (p *osProcess) cgroupPath() string {
	if p.cgroup == nil {
		return ""
	}
	return p.cgroup.path
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

func (p *osProcess) KillGroup() {
	if p.pid > 0 {
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	}
	if p.cgroup != nil {
		p.cgroup.kill()
	}
}

func (p *osProcess) Continue() {
	if p.pid > 0 {
		_ = syscall.Kill(-p.pid, syscall.SIGCONT)
	}
}

func (p *osProcess) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.notify != nil {
		p.notify.Close()
		_ = os.Remove(p.notifyPath)
		p.notify = nil
	}
	if p.guardian != nil {
		p.guardian.Forget(p.pid)
		p.guardian = nil
	}
}
