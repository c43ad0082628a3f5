package proc

import (
	"fmt"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// Spawner starts child processes from a single goroutine locked to its OS
// thread for the life of the process. Linux sends the parent-death signal
// when the *thread* that forked a child exits, and the Go runtime may retire
// threads; forking from one thread that never exits makes the signal mean
// "the master died".
type Spawner struct {
	reqs chan spawnRequest
	// mu is held while a child is started and while the subreaper looks
	// at children, so it never mistakes a child just started for an
	// orphan; started holds the children whose own Wait reaps them.
	mu      sync.Mutex
	started map[int]bool
}

type spawnRequest struct {
	cmd   *exec.Cmd
	reply chan error
}

// NewSpawner starts the spawning thread. It is never stopped: a thread that
// ends would take its children's parent-death signal with it.
func NewSpawner() *Spawner {
	s := &Spawner{reqs: make(chan spawnRequest), started: map[int]bool{}}
	started := make(chan struct{})
	go s.loop(started)
	<-started
	return s
}

func (s *Spawner) loop(started chan<- struct{}) {
	runtime.LockOSThread()
	close(started)
	for r := range s.reqs {
		s.mu.Lock()
		err := r.cmd.Start()
		if err == nil {
			s.started[r.cmd.Process.Pid] = true
		}
		s.mu.Unlock()
		r.reply <- err
	}
}

// Start starts cmd on the spawning thread. Unless cmd.SysProcAttr is set
// already, the child gets its own process group and SIGKILL as its
// parent-death signal. Once cmd's Wait has returned, call Reaped.
func (s *Spawner) Start(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	}
	reply := make(chan error, 1)
	s.reqs <- spawnRequest{cmd: cmd, reply: reply}
	if err := <-reply; err != nil {
		return fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	return nil
}

// Reaped says that a child started here has been waited for.
func (s *Spawner) Reaped(pid int) {
	s.mu.Lock()
	delete(s.started, pid)
	s.mu.Unlock()
}

// owns reports whether pid is a child started here and not yet reaped;
// call with mu held.
func (s *Spawner) owns(pid int) bool { return s.started[pid] }
