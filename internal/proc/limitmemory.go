package proc

// MemoryReader returns the function --max-memory reads workers' memory
// with, and what it measures, for the log: a worker in a cgroup of its own
// is read from the cgroup, as ReadUsage does (memory.current, or on hybrid
// hosts the larger of the v1 charge and the RSS of every process in the
// cgroup, escaped ones included); any other from the RSS of its process
// group (groups).
func (c *Containment) MemoryReader(groups *GroupMemory) (read func(pids []int) map[int]int64, kind string) {
	kind = "RSS of its process group"
	if c.Cgroup() != "" {
		kind = "memory of its cgroup"
	}
	return func(pids []int) map[int]int64 {
		out := map[int]int64{}
		var rest []int
		for _, pid := range pids {
			w := c.workerCgroup(pid)
			if w == nil {
				rest = append(rest, pid)
				continue
			}
			if u, err := w.usage(); err == nil {
				out[pid] = u.RSS
			}
		}
		for pid, b := range groups.Read(rest) {
			out[pid] = b
		}
		return out
	}, kind
}

// workerCgroup is the cgroup of the worker whose main process is pid; nil
// when it has none.
func (c *Containment) workerCgroup(pid int) *workerCgroup {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.workers[pid]
}
