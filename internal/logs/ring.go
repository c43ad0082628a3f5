package logs

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"time"
)

// MasterSlot is the Slot of a line the master itself wrote (an event).
const MasterSlot = -1

// DefaultRingLines is how many recent lines a master keeps for `baton logs`.
const DefaultRingLines = 1000

// followBuffer is how many lines a follower may fall behind by before
// lines are dropped for it (and counted).
const followBuffer = 4096

// Entry is one line kept in a Ring.
type Entry struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Slot   int       `json:"slot"` // MasterSlot for the master's own lines
	PID    int       `json:"pid"`
	Stream string    `json:"stream"` // stdout, stderr
	Text   string    `json:"text"`
}

// Ring keeps the last lines of every worker and of the master, bounded,
// and passes new ones to followers. It never blocks a writer: a follower
// that falls behind loses lines (counted in Follower.Dropped).
type Ring struct {
	mu        sync.Mutex
	lines     []Entry // a circle of size lines, oldest at start once full
	size      int
	start     int
	seq       uint64
	followers map[*Follower]struct{}
	now       func() time.Time
}

// NewRing keeps up to size lines (at least 1).
func NewRing(size int) *Ring {
	return &Ring{size: max(size, 1), followers: map[*Follower]struct{}{}, now: time.Now}
}

// Add keeps one line.
func (r *Ring) Add(slot, pid int, stream, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	e := Entry{Seq: r.seq, Time: r.now(), Slot: slot, PID: pid, Stream: stream, Text: text}
	if len(r.lines) < r.size { // grows as lines come, up to size
		r.lines = append(r.lines, e)
	} else {
		r.lines[r.start] = e
		r.start = (r.start + 1) % len(r.lines)
	}
	for f := range r.followers {
		f.offer(e)
	}
}

// Len is how many lines are kept now (never more than the size).
func (r *Ring) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.lines)
}

// Filter selects lines: all when Slot is nil.
type Filter struct{ Slot *int }

func (f Filter) match(e Entry) bool { return f.Slot == nil || *f.Slot == e.Slot }

// Last returns up to n of the newest lines that match, oldest first.
func (r *Ring) Last(n int, f Filter) []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastLocked(n, f)
}

func (r *Ring) lastLocked(n int, f Filter) []Entry {
	var out []Entry
	for i := len(r.lines) - 1; i >= 0 && len(out) < n; i-- {
		if e := r.lines[(r.start+i)%len(r.lines)]; f.match(e) {
			out = append(out, e)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Follow returns up to n of the newest matching lines and a follower that
// receives every matching line added after them; Close it when done.
func (r *Ring) Follow(n int, f Filter) ([]Entry, *Follower) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fl := &Follower{C: make(chan Entry, followBuffer), filter: f, ring: r}
	r.followers[fl] = struct{}{}
	return r.lastLocked(n, f), fl
}

// Follower receives new lines on C.
type Follower struct {
	C       chan Entry
	filter  Filter
	ring    *Ring
	dropped uint64 // under ring.mu
}

func (f *Follower) offer(e Entry) {
	if !f.filter.match(e) {
		return
	}
	select {
	case f.C <- e:
	default:
		f.dropped++
	}
}

// Dropped is how many lines this follower lost by falling behind.
func (f *Follower) Dropped() uint64 {
	f.ring.mu.Lock()
	defer f.ring.mu.Unlock()
	return f.dropped
}

// Close stops the follower; C receives nothing more.
func (f *Follower) Close() {
	f.ring.mu.Lock()
	defer f.ring.mu.Unlock()
	delete(f.ring.followers, f)
}

// Writer returns an io.Writer whose complete lines go to the ring as the
// master's own (for its log), written through to w.
func (r *Ring) Writer(w io.Writer) *RingWriter {
	return &RingWriter{ring: r, w: w}
}

// RingWriter tees the master's log into a Ring.
type RingWriter struct {
	ring *Ring
	w    io.Writer
	mu   sync.Mutex
	part []byte
}

// Write writes p through and keeps each complete line.
func (rw *RingWriter) Write(p []byte) (int, error) {
	n, err := rw.w.Write(p)
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.part = append(rw.part, p...)
	for {
		i := bytes.IndexByte(rw.part, '\n')
		if i < 0 {
			break
		}
		rw.ring.Add(MasterSlot, 0, "stderr", strings.ToValidUTF8(string(rw.part[:i]), "\uFFFD"))
		rw.part = rw.part[i+1:]
	}
	if len(rw.part) > MaxLine {
		rw.ring.Add(MasterSlot, 0, "stderr", strings.ToValidUTF8(string(rw.part), "\uFFFD"))
		rw.part = rw.part[:0]
	}
	return n, err
}
