package logs

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// The first matching line, on either stream, fires once; it is written
// to the log before; every line still reaches the log after.
func TestMatchFiresOnceOnTheFirstMatchingLineOfEitherStream(t *testing.T) {
	var out, errOut bytes.Buffer
	s := NewSink(&out, &errOut, Text)
	var fired atomic.Int32
	var logged string
	m := NewMatch(regexp.MustCompile(`listening on port \d+`), func() {
		fired.Add(1)
		logged = errOut.String()
	})
	stdout := "booting\nlistening on port x\n"
	stderr := "warming up\nserver listening on port 8080\nlistening on port 8081\n"
	var wg sync.WaitGroup
	for _, c := range []struct {
		in     string
		stream string
	}{{stdout, "stdout"}, {stderr, "stderr"}} {
		wg.Add(1)
		go func(in, stream string) {
			defer wg.Done()
			Capture(io.NopCloser(strings.NewReader(in)), s, Origin{Slot: 0, PID: 9, Stream: stream}, NewTail(), m)
		}(c.in, c.stream)
	}
	wg.Wait()
	if fired.Load() != 1 || !m.Matched() {
		t.Fatalf("fired %d times, matched %v", fired.Load(), m.Matched())
	}
	if !strings.HasSuffix(logged, "[slot 0 pid 9] server listening on port 8080\n") {
		t.Fatalf("the matching line was not logged before the match fired: %q", logged)
	}
	if strings.Count(out.String(), "\n") != 2 || strings.Count(errOut.String(), "\n") != 3 {
		t.Fatalf("output changed by matching:\n%s\n%s", out.String(), errOut.String())
	}
}

// Lines are matched as the worker wrote them: not escaped, no line ending,
// so an anchored pattern works and a "\r\n" ending does not get in the way.
func TestMatchSeesTheRawLine(t *testing.T) {
	var fired atomic.Int32
	m := NewMatch(regexp.MustCompile(`^ready \x01$`), func() { fired.Add(1) })
	s := NewSink(io.Discard, io.Discard, Text)
	Capture(io.NopCloser(strings.NewReader("not ready\r\nready \x01\r\n")), s, Origin{Stream: "stdout"}, NewTail(), m)
	if fired.Load() != 1 {
		t.Fatalf("fired %d times", fired.Load())
	}
}

func TestNoMatchNeverFires(t *testing.T) {
	m := NewMatch(regexp.MustCompile(`listening`), func() { t.Error("fired") })
	s := NewSink(io.Discard, io.Discard, Text)
	Capture(io.NopCloser(strings.NewReader("starting\nstill starting\n")), s, Origin{Stream: "stdout"}, NewTail(), m)
	if m.Matched() {
		t.Fatal("matched")
	}
	var none *Match
	none.check([]byte("listening")) // a nil Match is no pattern: nothing happens
}

// After the first match a line costs an atomic load, not a regexp run.
func BenchmarkMatchAfterTheFirstMatch(b *testing.B) {
	m := NewMatch(regexp.MustCompile(`(a|b)*c[0-9]{3,}listening`), func() {})
	m.check([]byte("c123listening"))
	line := []byte(strings.Repeat("GET /index.html 200 ", 10))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m.check(line)
	}
}
