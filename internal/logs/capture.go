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

// readChunk is the read buffer of one captured stream: most lines fit;
// a longer one is gathered, up to MaxLine, in memory taken only then.
// (A MaxLine buffer for each of two streams of 256 workers was 8 MiB.)
const readChunk = 4 << 10

// Capture copies r to the sink line by line until EOF, also keeping the
// lines in tail and, when match is not nil, showing each line to it after
// the line is written. Lines longer than MaxLine are split. It closes r at
// the end.
func Capture(r io.ReadCloser, s *Sink, o Origin, tail *Tail, match *Match) {
	defer r.Close()
	br := bufio.NewReaderSize(r, readChunk)
	var long []byte // a line longer than readChunk, gathered so far
	emit := func(line []byte) {
		s.Write(o, line)
		tail.add(string(appendSafe(nil, line)))
		match.check(line)
	}
	for {
		frag, err := br.ReadSlice('\n')
		more := errors.Is(err, bufio.ErrBufferFull) // the line goes on
		if more || len(long) > 0 {
			long = append(long, frag...)
			for len(long) >= MaxLine && (more || len(long) > MaxLine) {
				emit(long[:MaxLine])
				long = append(long[:0], long[MaxLine:]...)
			}
			if more {
				continue
			}
			frag, long = long, long[:0]
		}
		if len(frag) > 0 {
			frag = bytes.TrimSuffix(frag, []byte("\n"))
			frag = bytes.TrimSuffix(frag, []byte("\r"))
			emit(frag)
		}
		if err != nil {
			return
		}
	}
}
