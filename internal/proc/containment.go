package proc

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/batonhq/baton/internal/config"
	"golang.org/x/sys/unix"
)

// ContainmentEnv names the variable that forces the fallback containment:
// BATON_CONTAINMENT=pgroup (for tests, and for hosts where creating
// cgroups is not wanted).
const ContainmentEnv = "BATON_CONTAINMENT"

// Containment is how a master keeps hold of every process its workers
// start. With a writable cgroup v2 hierarchy each worker is cloned
// straight into a cgroup of its own (CLONE_INTO_CGROUP), below one cgroup
// per master, and stopped with cgroup.kill, which no setsid() or double
// fork escapes. Otherwise workers stay in process groups, and the master
// becomes a child subreaper so that processes that escaped their group
// are reparented to it: it reaps and reports them, and kills those still
// running when it stops.
type Containment struct {
	parent    string // v2: this master's cgroup of worker cgroups; "" without cgroups
	memParent string // v1 memory hierarchy's counterpart (hybrid hosts); "" when none
	reaper    *reaper
	log       *slog.Logger

	mu      sync.Mutex
	workers map[int]*workerCgroup // by main pid, for usage
}

// Contain sets up the containment for the master called name: cgroups
// where possible (unless force is "pgroup"), else process groups and a
// subreaper. It never fails: what it could not do is logged.
func Contain(name, force string, sp *Spawner, log *slog.Logger) *Containment {
	c := &Containment{log: log, workers: map[int]*workerCgroup{}}
	var err error
	if force == "pgroup" {
		err = fmt.Errorf("%s=pgroup", ContainmentEnv)
	} else {
		c.parent, c.memParent, err = setUpCgroups(name)
	}
	if err == nil {
		log.Info("containment", "kind", c.String())
		return c
	}
	c.reaper = startReaper(sp, log)
	log.Info("containment", "kind", c.String(), "why", err.Error())
	return c
}

// String says which containment is in force, for status: "cgroup v2
// /sys/fs/cgroup/unified/baton-web-4242", or "process group + subreaper".
func (c *Containment) String() string {
	if c == nil {
		return "process group"
	}
	if c.parent != "" {
		s := "cgroup v2 " + c.parent
		if c.memParent != "" {
			s += " (memory: v1 " + c.memParent + ")"
		}
		return s
	}
	return "process group + subreaper"
}

// Cgroup is the master's cgroup of worker cgroups; "" without cgroups.
func (c *Containment) Cgroup() string {
	if c == nil {
		return ""
	}
	return c.parent
}

// Parents are the master's cgroups of worker cgroups (v2, then v1
// memory), for the guardian to remove.
func (c *Containment) Parents() []string {
	var out []string
	for _, p := range []string{c.Cgroup(), c.memDir()} {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (c *Containment) memDir() string {
	if c == nil {
		return ""
	}
	return c.memParent
}

// ReadUsage reads a worker's memory and CPU: its cgroup's totals (every
// process in it) when it has one, else its main process's from /proc.
func (c *Containment) ReadUsage(pid int) (Usage, error) {
	if c != nil {
		c.mu.Lock()
		w := c.workers[pid]
		c.mu.Unlock()
		if w != nil {
			return w.usage()
		}
	}
	return ReadUsage(pid)
}

// Close removes the master's cgroups once its workers are gone, or, in
// the fallback, kills and reaps the orphans still running.
func (c *Containment) Close() {
	if c == nil {
		return
	}
	if c.reaper != nil {
		c.reaper.close()
	}
	for _, dir := range []string{c.parent, c.memParent} {
		if dir == "" {
			continue
		}
		if err := removeCgroup(dir, cgroupRemoveLimit); err != nil {
			c.log.Warn("containment", "err", err)
		}
	}
}

// newWorker makes worker id's cgroup; nil without cgroups.
func (c *Containment) newWorker(id int) (*workerCgroup, error) {
	if c == nil || c.parent == "" {
		return nil, nil
	}
	name := "w" + strconv.Itoa(id)
	w := &workerCgroup{c: c, path: filepath.Join(c.parent, name)}
	if err := os.Mkdir(w.path, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("create cgroup %s: %w", w.path, err)
	}
	fd, err := unix.Open(w.path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		_ = syscall.Rmdir(w.path)
		return nil, fmt.Errorf("open cgroup %s: %w", w.path, err)
	}
	w.fd = fd
	if c.memParent != "" {
		mem := filepath.Join(c.memParent, name)
		if err := os.Mkdir(mem, 0o755); err == nil || errors.Is(err, os.ErrExist) {
			w.mem = mem
		}
	}
	return w, nil
}

// workerCgroup is one worker's cgroup (and its v1 memory cgroup).
type workerCgroup struct {
	c    *Containment
	path string
	mem  string
	fd   int // open until the worker is started in it
	pid  int
}

// sysProcAttr puts the new process into the cgroup as it is cloned.
func (w *workerCgroup) sysProcAttr(a *syscall.SysProcAttr) {
	if w != nil {
		a.UseCgroupFD, a.CgroupFD = true, w.fd
	}
}

// shimEnv tells the exec shim to move itself into the v1 memory cgroup
// (v1 has no clone-into) before it execs the command; the worker's user
// is given that cgroup's cgroup.procs to do so.
func (w *workerCgroup) shimEnv(r config.RunAs) []string {
	if w.mem == "" {
		return nil
	}
	procs := filepath.Join(w.mem, "cgroup.procs")
	if r.Drop {
		if err := os.Chown(procs, int(r.UID), int(r.GID)); err != nil {
			return nil // the master moves it, a moment later
		}
	}
	return []string{ShimMemcgEnv + "=" + procs}
}

// started records the worker's pid and, should the shim not have done
// it, moves it into its v1 memory cgroup.
func (w *workerCgroup) started(pid int) {
	w.closeFD()
	w.pid = pid
	if w.mem != "" {
		if err := os.WriteFile(filepath.Join(w.mem, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
			w.c.log.Warn("containment: v1 memory cgroup", "pid", pid, "err", err)
		}
	}
	w.c.mu.Lock()
	w.c.workers[pid] = w
	w.c.mu.Unlock()
}

func (w *workerCgroup) closeFD() {
	if w.fd > 0 {
		_ = unix.Close(w.fd)
		w.fd = -1
	}
}

// escaped counts the processes in the cgroup that left the process group
// pgid (setsid, setpgid).
func (w *workerCgroup) escaped(pgid int) int {
	n := 0
	for _, pid := range cgroupPIDs(w.path) {
		if _, g, _, ok := procStat(pid); ok && g != pgid {
			n++
		}
	}
	return n
}

// kill SIGKILLs every process in the cgroup.
func (w *workerCgroup) kill() {
	if err := killCgroup(w.path); err != nil {
		w.c.log.Warn("containment", "err", err)
	}
}

// remove kills what is left and removes the cgroups (bounded).
func (w *workerCgroup) remove() {
	w.closeFD()
	w.kill()
	for _, dir := range []string{w.path, w.mem} {
		if dir == "" {
			continue
		}
		if err := removeCgroup(dir, cgroupRemoveLimit); err != nil {
			w.c.log.Warn("containment", "err", err)
		}
	}
	w.c.mu.Lock()
	if w.c.workers[w.pid] == w {
		delete(w.c.workers, w.pid)
	}
	w.c.mu.Unlock()
}

// usage is the cgroup's memory and CPU time. Memory: v2 memory.current
// when the memory controller is on for the worker cgroups; else the
// larger of the v1 memory cgroup's usage (hybrid hosts) and the sum of the
// RSS of the processes in the cgroup: a v1 charge misses what was charged
// elsewhere first, and on some hosts misses far more (measured: a 50 MB
// allocation charged as 1.2 MB). CPU: v2 cpu.stat's usage_usec, present
// without the cpu controller; else the sum of its processes'.
func (w *workerCgroup) usage() (Usage, error) {
	if rss, ok := readInt(filepath.Join(w.path, "memory.current")); ok {
		cpu, ok := cpuUsage(w.path)
		if ok {
			return Usage{RSS: rss, CPU: cpu}, nil
		}
	}
	var sum Usage
	for _, pid := range cgroupPIDs(w.path) {
		if p, err := ReadUsage(pid); err == nil {
			sum.RSS += p.RSS
			sum.CPU += p.CPU
		}
	}
	u := sum
	if rss, ok := readInt(filepath.Join(w.path, "memory.current")); ok {
		u.RSS = rss
	} else if rss, ok := readInt(filepath.Join(w.mem, "memory.usage_in_bytes")); w.mem != "" && ok && rss > u.RSS {
		u.RSS = rss
	}
	if cpu, ok := cpuUsage(w.path); ok {
		u.CPU = cpu
	}
	return u, nil
}

// setUpCgroups creates this master's cgroup below its own in the v2
// hierarchy, checks that the kernel can clone into it and kill it, and
// does the same in the v1 memory hierarchy when there is one.
func setUpCgroups(name string) (parent, memParent string, err error) {
	v2, mem, err := findHierarchies()
	if err != nil {
		return "", "", err
	}
	if v2.mount == "" || v2.own == "" {
		return "", "", errors.New("no cgroup v2 hierarchy is mounted")
	}
	base := workerBase(v2)
	sweepCgroups(base)
	parent = filepath.Join(base, cgroupName(name))
	if err := os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return "", "", fmt.Errorf("cgroup v2 not writable: %w", err)
	}
	if err := probeCgroup(parent); err != nil {
		_ = syscall.Rmdir(parent)
		return "", "", err
	}
	enableControllers(parent)
	if mem.mount != "" && mem.own != "" {
		sweepCgroups(mem.dir())
		m := filepath.Join(mem.dir(), cgroupName(name))
		if err := os.Mkdir(m, 0o755); err == nil || errors.Is(err, os.ErrExist) {
			memParent = m
		}
	}
	return parent, memParent, nil
}

// cgroupName is "baton-NAME-PID", the name cut to keep it a valid file name.
func cgroupName(name string) string {
	if len(name) > 200 {
		name = name[:200]
	}
	return "baton-" + name + "-" + strconv.Itoa(os.Getpid())
}

// probeCgroup checks that cgroup.kill exists (Linux 5.14) and that a
// process can be cloned straight into a child cgroup (clone3 with
// CLONE_INTO_CGROUP, Linux 5.7; some seccomp profiles refuse clone3): it
// forks into a probe cgroup a child that fails its exec at once.
func probeCgroup(parent string) error {
	if _, err := os.Stat(filepath.Join(parent, "cgroup.kill")); err != nil {
		return errors.New("cgroup v2 has no cgroup.kill (needs Linux 5.14)")
	}
	probe := filepath.Join(parent, "probe")
	if err := os.Mkdir(probe, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("cgroup v2 not writable: %w", err)
	}
	defer syscall.Rmdir(probe)
	fd, err := unix.Open(probe, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open cgroup %s: %w", probe, err)
	}
	defer unix.Close(fd)
	_, err = syscall.ForkExec("/nonexistent/baton-cgroup-probe", []string{"probe"},
		&syscall.ProcAttr{Sys: &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}})
	if !errors.Is(err, syscall.ENOENT) { // the child ran, in the cgroup, and failed its exec
		return fmt.Errorf("cannot start a process in a cgroup (clone3 CLONE_INTO_CGROUP): %v", err)
	}
	return nil
}

// enableControllers turns on the memory and cpu controllers for the
// worker cgroups where the master's own cgroup offers them (they give
// memory.current; without them memory comes from the v1 hierarchy or is
// summed from /proc). Best effort; the master's own cgroup is not touched.
func enableControllers(parent string) {
	for _, ctl := range []string{"memory", "cpu"} {
		_ = os.WriteFile(filepath.Join(parent, "cgroup.subtree_control"), []byte("+"+ctl), 0)
	}
}

// sweepCgroups removes cgroups of masters that died without cleaning up
// (and whose guardian could not either), when they are empty.
func sweepCgroups(base string) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "baton-")
		i := strings.LastIndexByte(rest, '-')
		if !ok || !e.IsDir() || i < 0 {
			continue
		}
		pid, err := strconv.Atoi(rest[i+1:])
		if err != nil || pid == os.Getpid() || processExists(pid) {
			continue
		}
		dir := filepath.Join(base, e.Name())
		subs, _ := os.ReadDir(dir)
		for _, s := range subs {
			if s.IsDir() {
				_ = syscall.Rmdir(filepath.Join(dir, s.Name()))
			}
		}
		_ = syscall.Rmdir(dir)
	}
}
