package logs

import (
	"fmt"
	"testing"
)

func TestRingNeverGrowsPastItsSizeUnderAFlood(t *testing.T) {
	r := NewRing(100)
	for i := 0; i < 10000; i++ {
		r.Add(i%3, 10+i%3, "stdout", fmt.Sprint(i))
	}
	if r.Len() != 100 {
		t.Fatalf("kept %d lines, want 100", r.Len())
	}
	last := r.Last(5, Filter{})
	if len(last) != 5 || last[0].Text != "9995" || last[4].Text != "9999" {
		t.Fatalf("last 5: %+v", last)
	}
	one := 1
	got := r.Last(1000, Filter{Slot: &one})
	if len(got) != 33 || got[len(got)-1].Text != "9997" {
		t.Fatalf("slot 1: %d lines, last %+v", len(got), got[len(got)-1])
	}
}

func TestFollowerGetsNewLinesAndDropsWhenBehind(t *testing.T) {
	r := NewRing(10)
	r.Add(0, 1, "stdout", "old")
	zero := 0
	past, f := r.Follow(5, Filter{Slot: &zero})
	defer f.Close()
	if len(past) != 1 || past[0].Text != "old" {
		t.Fatalf("past: %+v", past)
	}
	r.Add(1, 2, "stdout", "other slot")
	r.Add(0, 1, "stderr", "new")
	if e := <-f.C; e.Text != "new" || e.Stream != "stderr" {
		t.Fatalf("followed %+v", e)
	}
	for i := 0; i < followBuffer+10; i++ {
		r.Add(0, 1, "stdout", "flood")
	}
	if f.Dropped() != 10 {
		t.Fatalf("dropped %d, want 10", f.Dropped())
	}
}

func TestRingWriterKeepsTheMastersLines(t *testing.T) {
	r := NewRing(10)
	var sink []byte
	w := r.Writer(writerFunc(func(p []byte) (int, error) { sink = append(sink, p...); return len(p), nil }))
	fmt.Fprint(w, "one\ntw")
	fmt.Fprint(w, "o\n")
	got := r.Last(10, Filter{})
	if len(got) != 2 || got[0].Text != "one" || got[1].Text != "two" || got[0].Slot != MasterSlot || string(sink) != "one\ntwo\n" {
		t.Fatalf("%+v %q", got, sink)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
