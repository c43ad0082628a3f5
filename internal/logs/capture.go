package logs

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"syscall"
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

// chunks are the read buffers. A stream that reads from a pollable file
// (a pipe) takes one only once data is there and gives it back after the
// chunk is split into lines, so an idle worker's streams hold none: two
// streams of 256 workers each holding one was 2 MiB.
var chunks = sync.Pool{New: func() any { b := make([]byte, readChunk); return &b }}

// Capture copies r to the sink line by line until EOF, also keeping the
// lines in tail and, when match is not nil, showing each line to it after
// the line is written. Lines longer than MaxLine are split. It closes r at
// the end.
func Capture(r io.ReadCloser, s *Sink, o Origin, tail *Tail, match *Match) {
	defer r.Close()
	lines := lineSplitter{emit: func(line []byte) {
		s.Write(o, line)
		tail.add(string(appendSafe(nil, line)))
		match.check(line)
	}}
	_ = readChunks(r, lines.feed)
	lines.end()
}

// readChunks reads r until EOF or an error, showing each chunk read to
// use, which must not keep it. The error is nil at EOF.
func readChunks(r io.Reader, use func([]byte)) error {
	if sc, ok := r.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			return readRaw(rc, use)
		}
	}
	buf := make([]byte, readChunk)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			use(buf[:n])
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readRaw is readChunks on a file descriptor: it waits for data in the
// runtime's poller holding no buffer, and reads into one of chunks.
func readRaw(rc syscall.RawConn, use func([]byte)) error {
	for {
		var (
			buf   *[]byte
			n     int
			rerr  error
			ended bool
		)
		err := rc.Read(func(fd uintptr) bool {
			buf = chunks.Get().(*[]byte)
			for {
				n, rerr = syscall.Read(int(fd), *buf)
				if !errors.Is(rerr, syscall.EINTR) {
					break
				}
			}
			if errors.Is(rerr, syscall.EAGAIN) {
				chunks.Put(buf)
				buf = nil
				return false // wait for data
			}
			ended = n <= 0
			return true
		})
		if err == nil && !ended {
			use((*buf)[:n])
		}
		if buf != nil {
			chunks.Put(buf)
		}
		switch {
		case err != nil:
			return err
		case rerr != nil:
			return rerr
		case ended:
			return nil
		}
	}
}

// lineSplitter cuts a stream into lines without their "\n" or "\r\n". A
// line that has not ended yet is gathered, up to MaxLine at a time: a
// longer one is emitted in pieces of MaxLine as it comes.
type lineSplitter struct {
	emit    func(line []byte)
	partial []byte // the line so far, when a chunk ended inside it
}

func (l *lineSplitter) feed(chunk []byte) {
	for len(chunk) > 0 {
		i := bytes.IndexByte(chunk, '\n')
		if i < 0 {
			l.partial = append(l.partial, chunk...)
			for len(l.partial) > MaxLine {
				l.emit(l.partial[:MaxLine])
				l.partial = append(l.partial[:0], l.partial[MaxLine:]...)
			}
			return
		}
		line := chunk[:i]
		chunk = chunk[i+1:]
		if len(l.partial) > 0 {
			l.partial = append(l.partial, line...)
			line = l.partial
		}
		l.whole(bytes.TrimSuffix(line, []byte("\r")))
		l.partial = l.partial[:0]
		if cap(l.partial) > readChunk {
			l.partial = nil // a long line's memory is not kept
		}
	}
}

// whole emits a line that has ended, in pieces if it is longer than
// MaxLine.
func (l *lineSplitter) whole(line []byte) {
	for len(line) > MaxLine {
		l.emit(line[:MaxLine])
		line = line[MaxLine:]
	}
	l.emit(line)
}

// end emits what the stream wrote after its last newline.
func (l *lineSplitter) end() {
	if len(l.partial) > 0 {
		l.whole(bytes.TrimSuffix(l.partial, []byte("\r")))
		l.partial = nil
	}
}
