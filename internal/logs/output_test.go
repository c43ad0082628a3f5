package logs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("gone") }

func TestOutputNeverFailsAndCountsLostWrites(t *testing.T) {
	o := NewOutput(failingWriter{})
	for range 3 {
		if n, err := o.Write([]byte("line\n")); n != 5 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if o.Lost() != 3 {
		t.Fatalf("Lost = %d", o.Lost())
	}
	var ok strings.Builder
	o = NewOutput(&ok)
	o.Write([]byte("x"))
	if o.Lost() != 0 || ok.String() != "x" {
		t.Fatalf("a good write: lost %d, %q", o.Lost(), ok.String())
	}
}

// A reader that went away: with SIGPIPE ignored, as the master does,
// writes to the closed pipe fail at once with EPIPE and are counted.
func TestOutputToAClosedPipe(t *testing.T) {
	signal.Ignore(syscall.SIGPIPE)
	defer signal.Reset(syscall.SIGPIPE)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r.Close()
	if _, err := w.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("raw write to a closed pipe: %v", err)
	}
	o := NewOutput(w)
	start := time.Now()
	for range 1000 {
		if n, err := o.Write([]byte("a line of output\n")); n != 17 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if o.Lost() != 1000 {
		t.Fatalf("Lost = %d", o.Lost())
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("1000 lost writes took %v", d)
	}
}

// The real case: the process's own stdout is a pipe whose reader exited
// (`baton run ... | head -1`). The process keeps running and counts.
func TestOutputSurvivesItsStdoutGoingAway(t *testing.T) {
	if os.Getenv("BATON_TEST_STDOUT_CHILD") == "1" {
		signal.Ignore(syscall.SIGPIPE)
		o := NewOutput(os.Stdout)
		for range 100 {
			fmt.Fprintln(o, "worker output")
		}
		fmt.Fprintf(os.Stderr, "lost=%d\n", o.Lost())
		os.Exit(0)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOutputSurvivesItsStdoutGoingAway$")
	cmd.Env = append(os.Environ(), "BATON_TEST_STDOUT_CHILD=1")
	cmd.Stdout = w
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	w.Close()
	if err != nil || !strings.Contains(stderr.String(), "lost=100") {
		t.Fatalf("child: %v, stderr %q", err, stderr.String())
	}
}

// A worker's pipe is drained to its end even when every write of the sink
// fails: the worker never blocks on a full pipe because the master's
// output is gone.
func TestCaptureDrainsWhenTheSinkFails(t *testing.T) {
	out, errOut := NewOutput(failingWriter{}), NewOutput(failingWriter{})
	s := NewSink(out, errOut, Text)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	const lines = 20000 // ~1 MB, far beyond a pipe's buffer
	wrote := make(chan error, 1)
	go func() {
		_, err := io.WriteString(w, strings.Repeat(strings.Repeat("y", 50)+"\n", lines))
		w.Close()
		wrote <- err
	}()
	done := make(chan struct{})
	tail := NewTail()
	go func() { Capture(r, s, Origin{Slot: 0, PID: 1, Stream: "stdout"}, tail, nil); close(done) }()
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the worker blocked writing its output")
	}
	<-done
	if out.Lost() != lines || len(tail.Lines()) != TailLines {
		t.Fatalf("lost %d of %d, tail %d", out.Lost(), lines, len(tail.Lines()))
	}
}

// stalledWriter never returns from Write until released: a reader that
// stays but stops reading.
type stalledWriter struct{ release chan struct{} }

func (b stalledWriter) Write(p []byte) (int, error) {
	<-b.release
	return len(p), nil
}

func TestQueuedOutputNeverBlocksOnAStalledReader(t *testing.T) {
	bw := stalledWriter{release: make(chan struct{})}
	o := NewQueuedOutput(bw, 10)
	done := make(chan struct{})
	go func() {
		for i := 0; i < 1000; i++ {
			_, _ = o.Write([]byte("line\n"))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("writes blocked on a stalled reader")
	}
	// One write may be in the writer's hands and 10 queued: the rest dropped.
	if lost := o.Lost(); lost < 1000-11 || lost > 1000 {
		t.Fatalf("lost %d of 1000", lost)
	}
	close(bw.release)
	if err := o.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestQueuedOutputFlushesOnClose(t *testing.T) {
	var buf bytes.Buffer
	o := NewQueuedOutput(&buf, 100)
	for i := 0; i < 50; i++ {
		_, _ = fmt.Fprintf(o, "%d\n", i)
	}
	if err := o.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, _ = o.Write([]byte("after\n")) // straight through once closed
	if got := strings.Count(buf.String(), "\n"); got != 51 || o.Lost() != 0 {
		t.Fatalf("%d lines written, %d lost", got, o.Lost())
	}
}
