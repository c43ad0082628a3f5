package master

import (
	"runtime/debug"
	"time"

	"github.com/batonhq/baton/internal/pagetrim"
)

const (
	// trimBuffer is how many events the trimmer may fall behind by; it
	// only looks for the end of a rollout.
	trimBuffer = 64
	// trimCheck is how often the trimmer looks at how many pages of files
	// the master holds again since it last trimmed.
	trimCheck = 30 * time.Second
	// trimRegrowth is how much those may grow back before the trimmer
	// trims again: a `baton status`, a scrape of /metrics or the runtime's
	// periodic garbage collection runs code the master had not run since,
	// and with the kernel's fault-around each such call maps a few MB.
	trimRegrowth = 1 << 20
)

// startTrim subscribes the trimmer to the event stream and starts it:
// once every worker is first ready, and after each rollout, the master
// returns the heap it no longer uses to the system and drops from its page
// tables the pages of the baton binary that start-up and the rollout
// touched (trimPages); in between, every trimCheck, it drops them again
// when more than trimRegrowth of them came back (a master that is looked
// at keeps the code the looking runs).
func (m *Master) startTrim() {
	sub := m.bus.Subscribe(trimBuffer)
	allReady := m.sup.AllReady()
	check := time.NewTicker(trimCheck)
	go func() {
		defer check.Stop()
		var after int64 // file pages resident right after the last trim
		for {
			select {
			case <-allReady:
				allReady = nil
				debug.FreeOSMemory()
				after = m.trimPages("workers ready")
			case e, ok := <-sub.C:
				if !ok {
					return
				}
				if e.Final() {
					debug.FreeOSMemory()
					after = m.trimPages("rollout done")
				}
			case <-check.C:
				if now, err := pagetrim.FileResident(); err == nil && now-after > trimRegrowth {
					after = m.trimPages("pages came back")
				}
			}
		}
	}()
}

// trimPages drops the master's clean pages of read-only file mappings
// (package pagetrim): they stay in the page cache, and the ones still used
// come back as minor faults. A failure costs only memory, so it is logged
// at debug level. It returns the file pages still resident after it.
func (m *Master) trimPages(after string) int64 {
	r, err := pagetrim.Self()
	if err != nil {
		m.log.Debug("trim file pages", "after", after, "err", err)
	} else {
		m.log.Debug("trimmed file pages", "after", after, "mappings", r.Mappings, "bytes", r.Dropped, "skipped", r.Skipped)
	}
	left, _ := pagetrim.FileResident()
	return left
}
