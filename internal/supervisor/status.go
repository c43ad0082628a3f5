package supervisor

import (
	"os"
	"sort"
	"time"
)

// Status is a snapshot of the master, as `baton status` shows it.
type Status struct {
	Name       string         `json:"name"`
	PID        int            `json:"pid"`
	Started    time.Time      `json:"started"`
	Uptime     float64        `json:"uptime_seconds"`
	Generation int            `json:"generation"`
	Desired    int            `json:"workers_desired"`
	Stopping   bool           `json:"stopping"`
	Sockets    []SocketStatus `json:"sockets"`
	Workers    []WorkerStatus `json:"workers"`
	Rollout    *RolloutStatus `json:"rollout,omitempty"` // running, else the last one
}

// SocketStatus describes one listening socket.
type SocketStatus struct {
	Name    string `json:"name"`
	Network string `json:"network"`
	Address string `json:"address"`
	FD      int    `json:"fd"` // the descriptor number workers see
}

// WorkerStatus describes one live worker.
type WorkerStatus struct {
	Slot       int     `json:"slot"`
	PID        int     `json:"pid"`
	Generation int     `json:"generation"`
	State      string  `json:"state"`
	Uptime     float64 `json:"uptime_seconds"`
	Restarts   int     `json:"restarts"`
	Status     string  `json:"status"`
	Dir        string  `json:"dir"`
}

func (s *Supervisor) snapshot() Status {
	now := s.now()
	st := Status{
		Name: s.opts.Name, PID: os.Getpid(), Started: s.started, Uptime: now.Sub(s.started).Seconds(),
		Generation: s.spec.Generation, Desired: len(s.slots), Stopping: s.stopping,
		Sockets: []SocketStatus{}, Workers: []WorkerStatus{},
	}
	for i, so := range s.opts.Sockets {
		st.Sockets = append(st.Sockets, SocketStatus{Name: so.Name, Network: so.Network, Address: so.Addr, FD: 3 + i})
	}
	for _, w := range s.workers {
		restarts := 0
		if w.slot < len(s.slots) {
			restarts = s.slots[w.slot].restarts
		}
		st.Workers = append(st.Workers, WorkerStatus{
			Slot: w.slot, PID: w.pid, Generation: w.gen, State: w.state.String(),
			Uptime: now.Sub(w.started).Seconds(), Restarts: restarts, Status: w.status, Dir: w.dir,
		})
	}
	sort.Slice(st.Workers, func(i, j int) bool {
		a, b := st.Workers[i], st.Workers[j]
		if a.Slot != b.Slot {
			return a.Slot < b.Slot
		}
		return a.Generation < b.Generation
	})
	if s.rollout != nil {
		r := s.rollout.status(now)
		st.Rollout = &r
	} else if s.lastRollout != nil {
		r := *s.lastRollout
		st.Rollout = &r
	}
	return st
}
