package master

import (
	"sync"
	"time"

	"github.com/batonhq/baton/internal/proc"
	"github.com/batonhq/baton/internal/supervisor"
)

// usageMeter turns /proc readings of each worker into memory and CPU %:
// over the time since the last status for a pid seen before (what
// `baton status --watch` shows), else over the worker's whole life.
type usageMeter struct {
	// read reads a worker's usage: its cgroup's, or its main process's.
	read func(pid int) (proc.Usage, error)
	mu   sync.Mutex
	last map[int]cpuSample
}

type cpuSample struct {
	at  time.Time
	cpu time.Duration
}

func newUsageMeter() *usageMeter {
	return &usageMeter{read: proc.ReadUsage, last: map[int]cpuSample{}}
}

// fill sets RSS and CPU % of every worker in st.
func (u *usageMeter) fill(st *supervisor.Status) {
	now := time.Now()
	u.mu.Lock()
	defer u.mu.Unlock()
	seen := map[int]bool{}
	for i := range st.Workers {
		w := &st.Workers[i]
		use, err := u.read(w.PID)
		if err != nil {
			continue
		}
		seen[w.PID] = true
		w.RSS = use.RSS
		prev, ok := u.last[w.PID]
		switch {
		case ok && now.Sub(prev.at) > 0:
			w.CPU = percent(use.CPU-prev.cpu, now.Sub(prev.at))
		case w.Uptime > 0:
			w.CPU = percent(use.CPU, time.Duration(w.Uptime*float64(time.Second)))
		}
		u.last[w.PID] = cpuSample{at: now, cpu: use.CPU}
	}
	for pid := range u.last {
		if !seen[pid] {
			delete(u.last, pid)
		}
	}
}

func percent(cpu, wall time.Duration) float64 {
	if wall <= 0 || cpu < 0 {
		return 0
	}
	return float64(cpu) / float64(wall) * 100
}
