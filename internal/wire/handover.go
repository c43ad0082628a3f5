package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The hand-over between an old master and the new one it starts (a master
// upgrade). The new master is the same program run with the same
// arguments, plus EnvHandover holding a Handover record (JSON) and these
// descriptors: the ready pipe at HandoverReadyFD, then the ones the record
// lists. It answers on the ready pipe with one line: "ready" once every
// worker of its first generation is ready, or "error: REASON" when it
// cannot take over; an end of file without either means it died.
const (
	EnvHandover     = "BATON_HANDOVER"
	HandoverReadyFD = FirstFD
	HandoverReady   = "ready"
)

// handoverFormat is the hand-over record's format version, as text so
// that a test can build a baton that speaks another one
// (-ldflags "-X github.com/batonhq/baton/internal/wire.handoverFormat=2").
// It is set at link time and never written at run time.
var handoverFormat = "1"

// HandoverVersion is the format version of the hand-over record this
// binary writes and the only one it reads.
func HandoverVersion() int {
	v, err := strconv.Atoi(handoverFormat)
	if err != nil || v <= 0 {
		return 1
	}
	return v
}

// ErrHandoverVersion means the record's format is not one this binary
// understands: an older or newer baton cannot take over.
var ErrHandoverVersion = errors.New("unknown hand-over version")

// Handover is what an old master passes to the new one.
type Handover struct {
	Version   int              `json:"version"`
	From      int              `json:"from_pid"`
	Control   string           `json:"control"`    // the control socket's path
	ControlFD int              `json:"control_fd"` // the control socket's listener
	LockFD    int              `json:"lock_fd"`    // the name's lock
	Sockets   []HandoverSocket `json:"sockets"`
	// Counters that carry over.
	Generation  int             `json:"generation"` // the last generation started
	Rollouts    int             `json:"rollouts"`
	Upgrades    int             `json:"upgrades"` // before this one
	LastRollout json.RawMessage `json:"last_rollout,omitempty"`
	// Recycled counts the workers recycled (--max-memory, --max-requests,
	// --max-lifetime, --watchdog), by cause, as status shows them.
	Recycled map[string]int `json:"recycled,omitempty"`
	// The admin endpoint's socket (--admin), and the metrics' counters.
	Admin   *HandoverSocket    `json:"admin,omitempty"`
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// HandoverSocket is one listening socket passed down.
type HandoverSocket struct {
	Name    string `json:"name"`
	Network string `json:"network"`
	Address string `json:"address"`
	FD      int    `json:"fd"`
}

// Encode renders h for EnvHandover.
func (h Handover) Encode() (string, error) {
	b, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("encode hand-over record: %w", err)
	}
	return string(b), nil
}

// ParseHandover reads an EnvHandover value. A record of another version
// is an error wrapping ErrHandoverVersion; descriptors must come after the
// ready pipe and be distinct.
func ParseHandover(s string) (Handover, error) {
	var probe struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal([]byte(s), &probe); err != nil {
		return Handover{}, fmt.Errorf("parse hand-over record: %w", err)
	}
	if want := HandoverVersion(); probe.Version != want {
		return Handover{}, fmt.Errorf("%w %d: this baton reads version %d", ErrHandoverVersion, probe.Version, want)
	}
	var h Handover
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return Handover{}, fmt.Errorf("parse hand-over record: %w", err)
	}
	return h, h.checkFDs()
}

func (h Handover) checkFDs() error {
	seen := map[int]bool{HandoverReadyFD: true}
	fds := []int{h.ControlFD, h.LockFD}
	for _, s := range h.Sockets {
		fds = append(fds, s.FD)
	}
	if h.Admin != nil {
		fds = append(fds, h.Admin.FD)
	}
	for _, fd := range fds {
		if fd <= HandoverReadyFD || seen[fd] {
			return fmt.Errorf("parse hand-over record: descriptor %d is not valid", fd)
		}
		seen[fd] = true
	}
	return nil
}
