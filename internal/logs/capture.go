package logs

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"sync"
)

// TailLines is how many of a worker's last lines are kept for reports.
const TailLines = 20

// Tail keeps the last lines a worker wrote, on either stream. It is safe
// for concurrent use: the capture goroutines append, the supervisor reads.
type Tail struct {
	mu    sync.Mutex
	lines []string
	next  int
	full  bool
}

// NewTail returns an empty tail of TailLines lines.
func NewTail() *Tail { return &Tail{lines: make([]string, TailLines)} }

func (t *Tail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines[t.next] = line
	t.next = (t.next + 1) % len(t.lines)
	if t.next == 0 {
		t.full = true
	}
}

// Lines returns the kept lines, oldest first.
func (t *Tail) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.full {
		return append([]string(nil), t.lines[:t.next]...)
	}
	return append(append([]string(nil), t.lines[t.next:]...), t.lines[:t.next]...)
}

// Capture copies r to the sink line by line until EOF, also keeping the
// lines in tail and, when match is not nil, showing each line to it after
// the line is written. Lines longer than MaxLine are split. It closes r at
// the end.
func Capture(r io.ReadCloser, s *Sink, o Origin, tail *Tail, match *Match) {
	defer r.Close()
	br := bufio.NewReaderSize(r, MaxLine)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			line = bytes.TrimSuffix(line, []byte("\n"))
			line = bytes.TrimSuffix(line, []byte("\r"))
			s.Write(o, line)
			tail.add(string(appendSafe(nil, line)))
			match.check(line)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}
