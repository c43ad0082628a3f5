package logs

import (
	"regexp"
	"sync/atomic"
)

// Match watches a worker's output, both streams, for the first line that
// matches a pattern, and then calls a function once: how `--ready
// output:REGEX` learns that a worker serves. Each line is matched as the
// worker wrote it, without its line ending and before any escaping for
// the log. After the first match a line costs one atomic load. It is safe
// for concurrent use by the capture goroutines of both streams.
type Match struct {
	re      *regexp.Regexp
	onMatch func()
	done    atomic.Bool
}

// NewMatch returns a Match calling onMatch, from the capture goroutine
// that read the line, once the first line matching re has been written
// to the log.
func NewMatch(re *regexp.Regexp, onMatch func()) *Match {
	return &Match{re: re, onMatch: onMatch}
}

// Matched reports whether a line has matched.
func (m *Match) Matched() bool { return m.done.Load() }

// check matches line, unless an earlier line did. A nil Match does nothing.
func (m *Match) check(line []byte) {
	if m == nil || m.done.Load() || !m.re.Match(line) {
		return
	}
	if m.done.CompareAndSwap(false, true) {
		m.onMatch()
	}
}
