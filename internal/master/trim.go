package master

import "github.com/batonhq/baton/internal/pagetrim"

// trimBuffer is how many events the trimmer may fall behind by; it only
// looks for the end of a rollout.
const trimBuffer = 64

// startTrim subscribes the trimmer to the event stream and starts it:
// once every worker is first ready, and after each rollout, the master
// drops from its page tables the pages of the baton binary that start-up
// and the rollout touched (trimPages).
func (m *Master) startTrim() {
	sub := m.bus.Subscribe(trimBuffer)
	allReady := m.sup.AllReady()
	go func() {
		for {
			select {
			case <-allReady:
				allReady = nil
				m.trimPages("workers ready")
			case e, ok := <-sub.C:
				if !ok {
					return
				}
				if e.Final() {
					m.trimPages("rollout done")
				}
			}
		}
	}()
}

// trimPages drops the master's clean pages of read-only file mappings
// (package pagetrim): they stay in the page cache, and the ones still used
// come back as minor faults. A failure costs only memory, so it is logged
// at debug level.
func (m *Master) trimPages(after string) {
	r, err := pagetrim.Self()
	if err != nil {
		m.log.Debug("trim file pages", "after", after, "err", err)
		return
	}
	m.log.Debug("trimmed file pages", "after", after, "mappings", r.Mappings, "bytes", r.Dropped, "skipped", r.Skipped)
}
