package proc

import (
	"bytes"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// reaper is the fallback containment's other half: the master is a child
// subreaper (PR_SET_CHILD_SUBREAPER), so a process that escaped its
// worker's process group (setsid, a double fork) is reparented to the
// master when its parent dies, instead of to init. The reaper waits for
// those orphans, and only those: the master's own children (workers, the
// guardian: the Spawner's; a new master of an upgrade: in the master's
// own process group) are reaped by their own Wait, which a wait for any
// child would rob.
type reaper struct {
	sp   *Spawner
	log  *slog.Logger
	sigs chan os.Signal
	stop chan struct{}
	done chan struct{}
}

// startReaper makes this process a subreaper and starts reaping orphans
// as SIGCHLD announces them.
func startReaper(sp *Spawner, log *slog.Logger) *reaper {
	r := &reaper{sp: sp, log: log, sigs: make(chan os.Signal, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		log.Warn("containment: cannot become a child subreaper: escaped processes go to init", "err", err)
	}
	signal.Notify(r.sigs, syscall.SIGCHLD)
	go r.run()
	return r
}

// reapEvery is how often the reaper looks for ended orphans without a
// SIGCHLD (signals coalesce; a children list read during an exit may miss
// one).
const reapEvery = 10 * time.Second

func (r *reaper) run() {
	defer close(r.done)
	tick := time.NewTicker(reapEvery)
	defer tick.Stop()
	for {
		select {
		case <-r.sigs:
			r.sweep(false)
		case <-tick.C:
			r.sweep(false)
		case <-r.stop:
			return
		}
	}
}

// close stops reaping, after killing and reaping the orphans still
// running: nothing a worker started outlives the master that stops.
func (r *reaper) close() {
	signal.Stop(r.sigs)
	close(r.stop)
	<-r.done
	// A killed orphan's own children are orphans next: a few rounds.
	for round := 0; round < 8; round++ {
		if r.sweep(true) == 0 {
			return
		}
	}
}

// sweep reaps every orphan that has exited; with kill, it first SIGKILLs
// the orphans still running and waits for them. It returns how many it
// reaped.
func (r *reaper) sweep(kill bool) int {
	r.sp.mu.Lock()
	defer r.sp.mu.Unlock()
	self, n := syscall.Getpgrp(), 0
	for _, pid := range Children(os.Getpid()) {
		state, pgid, comm, ok := procStat(pid)
		if !ok || r.sp.owns(pid) || pgid == self {
			continue
		}
		flags := unix.WNOHANG
		if state != 'Z' {
			if !kill {
				continue
			}
			_ = syscall.Kill(pid, syscall.SIGKILL)
			flags = 0
		}
		var ws unix.WaitStatus
		if got, err := unix.Wait4(pid, &ws, flags, nil); err == nil && got == pid {
			n++
			r.log.Warn("orphan reaped: a worker's process escaped its process group and ended",
				"pid", pid, "command", comm, "exit", exitOfStatus(ws).String(), "killed_at_stop", state != 'Z')
		}
	}
	return n
}

func exitOfStatus(ws unix.WaitStatus) Exit {
	if ws.Signaled() {
		return Exit{Signal: ws.Signal()}
	}
	return Exit{Code: ws.ExitStatus()}
}

// Children lists pid's children, from every thread's
// /proc/PID/task/TID/children, or, on kernels without those files, from
// the parent pid of every process.
func Children(pid int) []int {
	files, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	if len(files) == 0 {
		return childrenByScan(pid)
	}
	var out []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(s); err == nil {
				out = append(out, pid)
			}
		}
	}
	return out
}

// Descendants is root and every process below it.
func Descendants(root int) []int {
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, Children(out[i])...)
	}
	return out
}

// procStat reads a process's state, process group and command name.
func procStat(pid int) (state byte, pgid int, comm string, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, "", false
	}
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return 0, 0, "", false
	}
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 3 {
		return 0, 0, "", false
	}
	pgid, err = strconv.Atoi(f[2]) // after ')': state ppid pgrp
	return f[0][0], pgid, string(b[open+1 : end]), err == nil
}

// childrenByScan finds pid's children among all processes.
func childrenByScan(pid int) []int {
	parent := strconv.Itoa(pid)
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		fields := strings.Fields(string(b[i+1:]))
		if i < 0 || len(fields) < 2 || fields[1] != parent {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil {
			out = append(out, pid)
		}
	}
	return out
}
