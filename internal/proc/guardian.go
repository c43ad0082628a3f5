package proc

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/batonhq/baton/internal/pagetrim"
)

// GuardArg is the hidden first argument that makes the baton binary act as
// the guardian: `baton __guard`.
const GuardArg = "__guard"

// Guardian is the master's handle on its guardian process: a small baton
// process, outside every worker's process group and cgroup, that learns
// each worker's process group (and cgroup) over a pipe and, when that
// pipe closes because the master died (even by SIGKILL), kills every
// group and cgroup it still knows, then removes the cgroups. The workers'
// own parent-death signal kills them; the guardian also catches their
// children, and with cgroups the ones that left the process group. If the
// guardian itself dies, the master starts a new one and tells it every
// live worker again.
type Guardian struct {
	sp   *Spawner
	self string
	log  *slog.Logger

	mu      sync.Mutex // guards everything below, and serialises writes to the pipe
	w       io.WriteCloser
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been reaped
	closing bool
	parents []string       // the master's cgroups, removed at the end
	watched map[int]string // process group → its cgroup ("" for none)
}

// StartGuardian starts `self __guard` through sp; parents are the
// master's cgroups of worker cgroups (v2, and v1 memory), which the
// guardian removes when the master dies.
func StartGuardian(sp *Spawner, self string, parents []string, log *slog.Logger) (*Guardian, error) {
	g := &Guardian{sp: sp, self: self, log: log, parents: parents, watched: map[int]string{}}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.startLocked(); err != nil {
		return nil, err
	}
	return g, nil
}

// startLocked starts a guardian process and tells it what is watched.
func (g *Guardian) startLocked() error {
	cmd := exec.Command(g.self, GuardArg)
	cmd.Args[0] = "baton-guard"
	cmd.Stderr = os.Stderr
	// Its own process group, so a terminal's ^C reaches only the master;
	// no parent-death signal: it must outlive a killed master.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	w, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("start guardian: %w", err)
	}
	if err := g.sp.Start(cmd); err != nil {
		return fmt.Errorf("start guardian: %w", err)
	}
	g.w, g.cmd, g.exited = w, cmd, make(chan struct{})
	for _, p := range g.parents {
		g.sendLocked("P " + p)
	}
	for pgid, cg := range g.watched {
		g.sendLocked(watchLine(pgid, cg))
	}
	go g.reap(cmd, g.exited)
	return nil
}

// reap waits for a guardian process; one that ends while the master runs
// is replaced.
func (g *Guardian) reap(cmd *exec.Cmd, exited chan struct{}) {
	err := cmd.Wait()
	g.sp.Reaped(cmd.Process.Pid)
	close(exited)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing || g.cmd != cmd {
		return
	}
	g.log.Warn("guardian died: starting a new one", "pid", cmd.Process.Pid, "exit", ExitOf(cmd.ProcessState).String(), "err", err)
	for attempt := 0; ; attempt++ {
		_ = g.w.Close()
		if err := g.startLocked(); err == nil || attempt == 5 {
			if err != nil {
				g.log.Error("guardian: cannot start a new one: a master killed by SIGKILL leaves its workers' children running", "err", err)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// PID is the guardian process's pid now.
func (g *Guardian) PID() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cmd.Process.Pid
}

// Watch tells the guardian about a worker's process group and its cgroup
// ("" for none).
func (g *Guardian) Watch(pgid int, cgroup string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.watched[pgid] = cgroup
	g.sendLocked(watchLine(pgid, cgroup))
}

// Forget tells the guardian a process group is gone.
func (g *Guardian) Forget(pgid int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.watched, pgid)
	g.sendLocked("-" + strconv.Itoa(pgid))
}

func watchLine(pgid int, cgroup string) string {
	line := "+" + strconv.Itoa(pgid)
	if cgroup != "" {
		line += " " + cgroup
	}
	return line
}

func (g *Guardian) sendLocked(line string) {
	_, _ = io.WriteString(g.w, line+"\n")
}

// Close ends the guardian after the master has stopped every worker: it
// kills whatever groups are still listed, then exits.
func (g *Guardian) Close() error {
	g.mu.Lock()
	g.closing = true
	err := g.w.Close()
	exited, cmd := g.exited, g.cmd
	g.mu.Unlock()
	<-exited
	if !cmd.ProcessState.Success() && err == nil {
		err = fmt.Errorf("guardian: %s", ExitOf(cmd.ProcessState))
	}
	return err
}

// GuardMain is the guardian process's body: it reads "+PGID [CGROUP]",
// "-PGID" and "P CGROUP" lines until EOF, then SIGKILLs every group and
// cgroup still listed and removes the cgroups. It first gives back the
// pages of the baton binary that start-up touched (package pagetrim): the
// guardian waits for the whole life of the master and runs little code;
// a failure only costs memory, and it has no log to report it to.
func GuardMain(in io.Reader) {
	_, _ = pagetrim.Self()
	groups := map[int]string{}
	var parents []string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "P "); ok {
			parents = append(parents, p)
			continue
		}
		if len(line) < 2 {
			continue
		}
		id, cgroup, _ := strings.Cut(line[1:], " ")
		pgid, err := strconv.Atoi(id)
		if err != nil || pgid <= 1 {
			continue
		}
		switch line[0] {
		case '+':
			groups[pgid] = cgroup
		case '-':
			delete(groups, pgid)
		}
	}
	for pgid, cgroup := range groups {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		if cgroup != "" {
			_ = killCgroup(cgroup)
		}
	}
	for _, cgroup := range groups {
		if cgroup != "" {
			_ = removeCgroup(cgroup, cgroupRemoveLimit)
		}
	}
	for _, p := range parents {
		subs, _ := os.ReadDir(p) // the v1 memory cgroups of the workers
		for _, s := range subs {
			if s.IsDir() {
				_ = removeCgroup(filepath.Join(p, s.Name()), cgroupRemoveLimit)
			}
		}
		_ = removeCgroup(p, cgroupRemoveLimit)
	}
}
