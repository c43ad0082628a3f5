package proc

import (
	"fmt"
	"os/exec"
	"runtime"
	"syscall"
)

// Spawner starts child processes from a single goroutine locked to its OS
// thread for the life of the process. Linux sends the parent-death signal
// when the *thread* that forked a child exits, and the Go runtime may retire
// threads; forking from one thread that never exits makes the signal mean
// "the master died".
type Spawner struct {
	reqs chan spawnRequest
}

type spawnRequest struct {
	cmd   *exec.Cmd
	reply chan error
}

// NewSpawner starts the spawning thread. It is never stopped: a thread that
// ends would take its children's parent-death signal with it.
func NewSpawner() *Spawner {
	s := &Spawner{reqs: make(chan spawnRequest)}
	started := make(chan struct{})
	go s.loop(started)
	<-started
	return s
}

func (s *Spawner) loop(started chan<- struct{}) {
	runtime.LockOSThread()
	close(started)
	for r := range s.reqs {
		r.reply <- r.cmd.Start()
	}
}

// Start starts cmd on the spawning thread. Unless cmd.SysProcAttr is set
// already, the child gets its own process group and SIGKILL as its
// parent-death signal.
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
