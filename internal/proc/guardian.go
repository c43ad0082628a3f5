package proc

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
)

// GuardArg is the hidden first argument that makes the baton binary act as
// the guardian: `baton __guard`.
const GuardArg = "__guard"

// Guardian is the master's handle on its guardian process: a small baton
// process, outside every worker's process group, that learns each worker's
// process group over a pipe and, when that pipe closes because the master
// died (even by SIGKILL), kills every group it still knows. The workers'
// own parent-death signal kills them; the guardian also catches their
// children.
type Guardian struct {
	mu  sync.Mutex // serialises writes to the pipe
	w   io.WriteCloser
	cmd *exec.Cmd
}

// StartGuardian starts `self __guard` through sp.
func StartGuardian(sp *Spawner, self string) (*Guardian, error) {
	cmd := exec.Command(self, GuardArg)
	cmd.Args[0] = "baton-guard"
	cmd.Stderr = os.Stderr
	// Its own process group, so a terminal's ^C reaches only the master;
	// no parent-death signal: it must outlive a killed master.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	w, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start guardian: %w", err)
	}
	if err := sp.Start(cmd); err != nil {
		return nil, fmt.Errorf("start guardian: %w", err)
	}
	return &Guardian{w: w, cmd: cmd}, nil
}

// Watch tells the guardian about a worker's process group.
func (g *Guardian) Watch(pgid int) { g.send('+', pgid) }

// Forget tells the guardian a process group is gone.
func (g *Guardian) Forget(pgid int) { g.send('-', pgid) }

func (g *Guardian) send(op byte, pgid int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, _ = fmt.Fprintf(g.w, "%c%d\n", op, pgid)
}

// Close ends the guardian after the master has stopped every worker: it
// kills whatever groups are still listed, then exits.
func (g *Guardian) Close() error {
	g.mu.Lock()
	err := g.w.Close()
	g.mu.Unlock()
	if werr := g.cmd.Wait(); err == nil {
		err = werr
	}
	return err
}

// GuardMain is the guardian process's body: it reads "+PGID" and "-PGID"
// lines until EOF, then SIGKILLs every group still listed.
func GuardMain(in io.Reader) {
	groups := map[int]bool{}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := sc.Text()
		if len(line) < 2 {
			continue
		}
		pgid, err := strconv.Atoi(line[1:])
		if err != nil || pgid <= 1 {
			continue
		}
		switch line[0] {
		case '+':
			groups[pgid] = true
		case '-':
			delete(groups, pgid)
		}
	}
	for pgid := range groups {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}
