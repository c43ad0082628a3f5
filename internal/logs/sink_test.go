package logs

import (
	"bytes"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestCaptureSplitsLongLinesAndKeepsTail(t *testing.T) {
	var out, errOut bytes.Buffer
	s := NewSink(&out, &errOut, Text)
	tail := NewTail()
	input := strings.Repeat("x", MaxLine*2+10) + "\n" + "a\x00b\xff\n" + "last"
	Capture(io.NopCloser(strings.NewReader(input)), s, Origin{Slot: 1, PID: 7, Stream: "stdout"}, tail, nil)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("got %d lines, want 5", len(lines))
	}
	if lines[3] != `[slot 1 pid 7] a\x00b\xff` || lines[4] != "[slot 1 pid 7] last" {
		t.Fatalf("lines: %q %q", lines[3], lines[4])
	}
	got := tail.Lines()
	if len(got) != 5 || got[4] != "last" {
		t.Fatalf("tail %q", got)
	}
	for i := 0; i < 30; i++ {
		tail.add("n")
	}
	if len(tail.Lines()) != TailLines {
		t.Fatalf("tail keeps %d", len(tail.Lines()))
	}
}

// blockingWriter blocks every Write until release is closed, like a
// reader of stdout that stopped reading.
type blockingWriter struct {
	entered chan struct{}
	release chan struct{}
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	b.entered <- struct{}{}
	<-b.release
	return len(p), nil
}

func TestSlowStdoutDoesNotDelayStderr(t *testing.T) {
	slow := &blockingWriter{entered: make(chan struct{}, 1), release: make(chan struct{})}
	defer close(slow.release)
	var errOut syncBuffer
	s := NewSink(slow, &errOut, Text)
	go s.Write(Origin{Slot: 0, PID: 1, Stream: "stdout"}, []byte("stuck"))
	<-slow.entered
	done := make(chan struct{})
	go func() { s.Write(Origin{Slot: 1, PID: 2, Stream: "stderr"}, []byte("urgent")); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("stderr waited for a blocked stdout")
	}
	if errOut.String() != "[slot 1 pid 2] urgent\n" {
		t.Fatalf("%q", errOut.String())
	}
}

// One writer for both streams (2>&1 into one buffer) keeps one lock:
// lines stay whole and the race detector sees no concurrent writes.
func TestOneWriterForBothStreamsKeepsLinesWhole(t *testing.T) {
	var buf bytes.Buffer
	s := NewSink(&buf, &buf, Text)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := []string{"stdout", "stderr"}[i%2]
			for range 200 {
				s.Write(Origin{Slot: i, PID: i, Stream: stream}, []byte(strings.Repeat("z", 100)))
			}
		}()
	}
	wg.Wait()
	for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		if !strings.HasSuffix(l, "] "+strings.Repeat("z", 100)) {
			t.Fatalf("torn line %q", l)
		}
	}
	if sameWriter(failingWriter{}, func() io.Writer { var b bytes.Buffer; return &b }()) {
		t.Fatal("different writers are not the same")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A line longer than the read buffer but within MaxLine stays one line.
func TestCaptureKeepsALineLongerThanItsReadBufferWhole(t *testing.T) {
	var out, errOut bytes.Buffer
	s := NewSink(&out, &errOut, Text)
	long := strings.Repeat("y", readChunk*2+100)
	Capture(io.NopCloser(strings.NewReader("short\n"+long+"\r\nend\n")), s, Origin{Slot: 0, PID: 3, Stream: "stdout"}, NewTail(), nil)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 || lines[1] != "[slot 0 pid 3] "+long || lines[2] != "[slot 0 pid 3] end" {
		t.Fatalf("got %d lines: %.40q…", len(lines), lines)
	}
}

// TestCaptureFromAPipeGathersLinesAcrossReads: on a pipe, Capture reads
// whatever has arrived (no buffer held while it waits), so a line comes in
// pieces: "\r\n" split between two writes, a line longer than MaxLine in
// many, a last line without a newline; and closing the read end while it
// waits ends it.
func TestCaptureFromAPipeGathersLinesAcrossReads(t *testing.T) {
	var out, errOut bytes.Buffer
	s := NewSink(&out, &errOut, Text)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	tail := NewTail()
	done := make(chan struct{})
	go func() { Capture(r, s, Origin{Slot: 0, PID: 5, Stream: "stdout"}, tail, nil); close(done) }()
	long := strings.Repeat("z", MaxLine+MaxLine/2)
	for _, piece := range []string{"he", "llo\r", "\nsec", "ond\n", long[:5000], long[5000:], "\nlast"} {
		if _, err := io.WriteString(w, piece); err != nil {
			t.Fatal(err)
		}
		// Each piece is read on its own: wait until the pipe is empty.
		deadline := time.Now().Add(10 * time.Second)
		for pipeUnread(t, r) > 0 {
			if time.Now().After(deadline) {
				t.Fatal("capture does not read the pipe")
			}
			time.Sleep(time.Millisecond)
		}
	}
	w.Close()
	<-done
	want := []string{"hello", "second", long[:MaxLine], long[MaxLine:], "last"}
	if got := tail.Lines(); !slices.Equal(got, want) {
		t.Fatalf("lines %.30q, want %.30q", got, want)
	}

	// Closing the read end ends a capture waiting for data.
	r2, w2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	done2 := make(chan struct{})
	go func() { Capture(r2, s, Origin{Stream: "stderr"}, NewTail(), nil); close(done2) }()
	r2.Close()
	select {
	case <-done2:
	case <-time.After(10 * time.Second):
		t.Fatal("closing the pipe did not end the capture")
	}
}

// pipeUnread is how many bytes wait in the pipe r (FIONREAD).
func pipeUnread(t *testing.T, r *os.File) int {
	t.Helper()
	rc, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var ierr error
	if err := rc.Control(func(fd uintptr) { n, ierr = unix.IoctlGetInt(int(fd), unix.TIOCINQ) }); err != nil {
		t.Fatal(err)
	}
	if ierr != nil {
		t.Fatal(ierr)
	}
	return n
}
