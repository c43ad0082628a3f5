package logs

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestCaptureSplitsLongLinesAndKeepsTail(t *testing.T) {
	var out, errOut bytes.Buffer
	s := NewSink(&out, &errOut, Text)
	tail := NewTail()
	input := strings.Repeat("x", MaxLine*2+10) + "\n" + "a\x00b\xff\n" + "last"
	Capture(io.NopCloser(strings.NewReader(input)), s, Origin{Slot: 1, PID: 7, Stream: "stdout"}, tail)
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
