package logs

import (
	"encoding/json"
	"io"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// MaxLine is the longest line written as one; longer output is split into
// lines of at most this many bytes.
const MaxLine = 16 << 10

// Format is how lines are written.
type Format string

// Formats.
const (
	Text Format = "text"
	JSON Format = "json"
)

// Sink writes worker lines to the master's stdout and stderr. Lines from
// many workers are written whole, never interleaved. Each stream has its
// own lock, so a slow reader of stdout does not delay stderr.
type Sink struct {
	stdout stream
	stderr stream
	format Format
	now    func() time.Time
	ring   *Ring // recent lines for `baton logs`; nil keeps none
}

// KeepIn makes the sink keep every line in r too.
func (s *Sink) KeepIn(r *Ring) *Sink {
	s.ring = r
	return s
}

// stream is one output and the lock that keeps its lines whole.
type stream struct {
	mu *sync.Mutex
	w  io.Writer
}

func (s stream) write(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = s.w.Write(b)
}

// NewSink returns a sink writing in format to stdout and stderr. When both
// are the same writer they share one lock.
func NewSink(stdout, stderr io.Writer, format Format) *Sink {
	outMu, errMu := new(sync.Mutex), new(sync.Mutex)
	if sameWriter(stdout, stderr) {
		errMu = outMu
	}
	return &Sink{stdout: stream{outMu, stdout}, stderr: stream{errMu, stderr}, format: format, now: time.Now}
}

// sameWriter says whether a and b are one writer, without panicking on
// writers of types that cannot be compared.
func sameWriter(a, b io.Writer) bool {
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	return ta == tb && ta != nil && ta.Comparable() && a == b
}

// NewLogger returns the master's slog logger, writing to w in the sink's
// format.
func NewLogger(w io.Writer, format Format) *slog.Logger {
	if format == JSON {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// Origin identifies where a line came from.
type Origin struct {
	Name   string // the master's name
	Slot   int
	PID    int
	Stream string // "stdout" or "stderr"
}

type jsonLine struct {
	Time   string `json:"time"`
	Name   string `json:"name"`
	Slot   int    `json:"slot"`
	PID    int    `json:"pid"`
	Stream string `json:"stream"`
	Msg    string `json:"msg"`
}

// Write writes one line (without its newline) from o. It never fails:
// an error of the stream is dropped (an [Output] counts it), so the
// capture of a worker's pipe goes on draining it.
func (s *Sink) Write(o Origin, line []byte) {
	if s.ring != nil {
		s.ring.Add(o.Slot, o.PID, o.Stream, strings.ToValidUTF8(string(line), "\uFFFD"))
	}
	var buf []byte
	if s.format == JSON {
		buf, _ = json.Marshal(jsonLine{
			Time: s.now().Format(time.RFC3339Nano), Name: o.Name, Slot: o.Slot,
			PID: o.PID, Stream: o.Stream, Msg: strings.ToValidUTF8(string(line), "\uFFFD"),
		})
	} else {
		buf = append(buf, "[slot "...)
		buf = strconv.AppendInt(buf, int64(o.Slot), 10)
		buf = append(buf, " pid "...)
		buf = strconv.AppendInt(buf, int64(o.PID), 10)
		buf = append(buf, "] "...)
		buf = appendSafe(buf, line)
	}
	buf = append(buf, '\n')
	if o.Stream == "stderr" {
		s.stderr.write(buf)
		return
	}
	s.stdout.write(buf)
}

// appendSafe appends line with invalid UTF-8 replaced and control
// characters (other than tab) escaped, so binary output cannot corrupt a
// terminal or a log file.
func appendSafe(buf, line []byte) []byte {
	for len(line) > 0 {
		r, size := utf8.DecodeRune(line)
		switch {
		case r == utf8.RuneError && size == 1:
			buf = append(buf, "\\x"...)
			buf = strconv.AppendUint(buf, uint64(line[0])>>4, 16)
			buf = strconv.AppendUint(buf, uint64(line[0])&0xf, 16)
		case r == '\t' || (r >= 0x20 && r != 0x7f):
			buf = append(buf, line[:size]...)
		default:
			buf = append(buf, "\\x"...)
			buf = strconv.AppendUint(buf, uint64(r)>>4, 16)
			buf = strconv.AppendUint(buf, uint64(r)&0xf, 16)
		}
		line = line[size:]
	}
	return buf
}
