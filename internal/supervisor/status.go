package supervisor

import (
	"os"
	"sort"
	"time"

	"github.com/batonhq/baton/internal/proc"
)

// Status is a snapshot of the master, as `baton status` shows it.
type Status struct {
	Name        string         `json:"name"`
	PID         int            `json:"pid"`
	Started     time.Time      `json:"started"`
	Uptime      float64        `json:"uptime_seconds"`
	Generation  int            `json:"generation"`      // the generation new workers of a slot get
	LastGen     int            `json:"last_generation"` // the last one started, a failed rollout's included
	Rollouts    int            `json:"rollouts"`
	Desired     int            `json:"workers_desired"`
	Phase       Phase          `json:"phase"`
	StopTimeout float64        `json:"stop_timeout_seconds"` // how long a stop may take, per worker
	Seq         uint64         `json:"event_seq"`            // the last event published before this snapshot
	Sockets     []SocketStatus `json:"sockets"`
	Workers     []WorkerStatus `json:"workers"`
	// Recycled counts the workers started in place of a ready one, by
	// cause: watchdog, memory, max-requests, max-lifetime.
	Recycled map[Cause]int `json:"recycled,omitempty"`
	// Filled in by the master from the event stream, not by the supervisor.
	Rollout *RolloutStatus `json:"rollout,omitempty"` // running, else the last one
	Master  *MasterStatus  `json:"master,omitempty"`
	Proxy   *ProxyStatus   `json:"proxy,omitempty"` // proxy mode only
}

// ProxyStatus is the master's proxy in proxy mode, as its counters stand.
type ProxyStatus struct {
	Kind     string `json:"kind"`      // tcp or http
	Ready    int    `json:"ready"`     // workers in rotation
	Retries  uint64 `json:"retries"`   // connections or requests sent again to another worker
	Failed   uint64 `json:"failed"`    // requests answered 502/503, connections closed without a worker
	Waited   uint64 `json:"waited"`    // connections or requests that waited for a ready worker
	NoWorker uint64 `json:"no_worker"` // of those, the ones that gave up (--ready-timeout)
	// Responses counts answers by status class ("2xx": n), http only.
	Responses map[string]uint64 `json:"responses,omitempty"`
	BytesIn   uint64            `json:"bytes_in"`  // client → worker (tcp)
	BytesOut  uint64            `json:"bytes_out"` // worker → client (tcp), of the connections the master proxied
	// Steering is --proxy tcp's kernel steering: "kernel, N of M workers"
	// (N take new connections straight on their own listeners), or "off"
	// and why.
	Steering string `json:"steering,omitempty"`
	// SteeredWorkers is how many workers the kernel steers to now.
	SteeredWorkers int `json:"steered_workers"`
}

// MasterStatus is what the master adds about itself.
type MasterStatus struct {
	Version        string    `json:"version"`                // baton's version
	Upgrades       int       `json:"upgrades"`               // how many masters this one's line replaced
	UpgradedAt     time.Time `json:"upgraded_at,omitzero"`   // when this master took over
	UpgradingTo    int       `json:"upgrading_to,omitempty"` // a new master's pid, while one starts
	UpgradesFailed int       `json:"upgrades_failed"`        // new masters that did not take over
	HandedOverBy   int       `json:"handed_over_by,omitempty"`
	HandingOver    int       `json:"handing_over,omitempty"` // the old master's pid while it drains its workers
	Admin          string    `json:"admin,omitempty"`        // the admin endpoint's address (--admin), as bound
	SocketsHealed  uint64    `json:"sockets_healed"`         // listening sockets a worker shut down, listening again
	OutputLost     uint64    `json:"output_lost"`            // writes to the master's stdout/stderr that failed
	EventsDropped  uint64    `json:"events_dropped"`         // events a slow subscriber missed
	// Containment says how workers are held: "cgroup v2 PATH" or
	// "process group + subreaper".
	Containment string `json:"containment,omitempty"`
	RunAs       string `json:"run_as,omitempty"` // --user/--group: "nobody (uid 65534, gid 65534)"
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
	State      State   `json:"state"`
	Uptime     float64 `json:"uptime_seconds"`
	Restarts   int     `json:"restarts"`
	Status     string  `json:"status"`
	Dir        string  `json:"dir"`
	// Filled in by the master from /proc: the main process's resident
	// memory and CPU use (since the last status, else over its life).
	RSS int64   `json:"rss_bytes"`
	CPU float64 `json:"cpu_percent"`
	// Recycling is why it is being replaced (watchdog, memory, ...) while
	// its replacement starts.
	Recycling Cause `json:"recycling,omitempty"`
	// Proxy is the worker's private port and load, in proxy mode.
	Proxy *proc.ProxyStatus `json:"proxy,omitempty"`
	// NotReady is why a starting worker is not ready yet, when its
	// process can say (proxy mode: its readiness probe's last failure).
	NotReady string `json:"not_ready,omitempty"`
}

// ReadyCount is how many workers are ready.
func (st Status) ReadyCount() int {
	n := 0
	for _, w := range st.Workers {
		if w.State == Ready {
			n++
		}
	}
	return n
}

func (s *Supervisor) snapshot() Status {
	now := s.now()
	st := Status{
		Name: s.opts.Name, PID: os.Getpid(), Started: s.started, Uptime: now.Sub(s.started).Seconds(),
		Generation: s.spec.Generation, LastGen: s.nextGen, Rollouts: s.rollouts, Desired: len(s.slots), Phase: s.phase,
		StopTimeout: s.spec.StopTimeout.Seconds(), Seq: s.bus.Seq(),
		Sockets: append([]SocketStatus{}, s.opts.Sockets...), Workers: []WorkerStatus{},
	}
	if len(s.recycled) > 0 {
		st.Recycled = map[Cause]int{}
		for c, n := range s.recycled {
			st.Recycled[c] = n
		}
	}
	for _, w := range s.workers {
		restarts := 0
		if w.slot < len(s.slots) {
			restarts = s.slots[w.slot].restarts
		}
		ws := WorkerStatus{
			Slot: w.slot, PID: w.pid, Generation: w.gen, State: w.state,
			Uptime: now.Sub(w.started).Seconds(), Restarts: restarts, Status: w.status, Dir: w.dir, Recycling: w.recycle,
		}
		if pr, ok := w.proc.(proc.ProxyReporter); ok {
			ps := pr.ProxyStatus()
			ws.Proxy = &ps
		}
		if x, ok := w.proc.(proc.NotReadyExplainer); ok && w.state == Starting {
			ws.NotReady = x.NotReadyBecause()
		}
		st.Workers = append(st.Workers, ws)
	}
	sort.Slice(st.Workers, func(i, j int) bool {
		a, b := st.Workers[i], st.Workers[j]
		if a.Slot != b.Slot {
			return a.Slot < b.Slot
		}
		return a.Generation < b.Generation
	})
	return st
}
