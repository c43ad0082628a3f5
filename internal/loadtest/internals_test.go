package loadtest

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	check := func(v time.Duration) {
		i := bucketOf(v)
		if v > upperBound(i) || (i > 0 && v <= upperBound(i-1)) {
			t.Fatalf("value %d in bucket %d (%d..%d]", v, i, upperBound(i-1), upperBound(i))
		}
		if lo := upperBound(i-1) + 1; i >= 2*subCount && float64(upperBound(i)-lo) > float64(lo)/subCount {
			t.Fatalf("bucket %d too wide: %d..%d", i, lo, upperBound(i))
		}
	}
	for v := time.Duration(0); v < 1<<16; v++ {
		check(v)
	}
	for v := time.Duration(1 << 16); v < 1<<maxBits; v = v*9/8 + 7 {
		check(v)
	}
	if bucketOf(time.Hour) != nBuckets-1 || bucketOf(1<<maxBits-1) != nBuckets-1 {
		t.Fatal("huge values must land in the last bucket")
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 10000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5 * time.Millisecond}, {0.9, 9 * time.Millisecond}, {0.99, 9900 * time.Microsecond}, {1, 10 * time.Millisecond}} {
		got := h.quantile(c.q)
		if got < c.want || float64(got-c.want) > float64(c.want)*0.04 {
			t.Errorf("quantile(%v) = %v, want %v (+4%%)", c.q, got, c.want)
		}
	}
	if h.max != 10*time.Millisecond {
		t.Errorf("max = %v", h.max)
	}
	var empty histogram
	if empty.quantile(0.5) != 0 {
		t.Error("empty histogram quantile != 0")
	}
}

func TestMergeAndString(t *testing.T) {
	a, b := &stats{sent: 3, ok: 2, dials: 1}, &stats{sent: 2, ok: 0, non2xx: 1, dials: 2}
	a.lat.record(time.Millisecond)
	a.lat.record(2 * time.Millisecond)
	a.fail(failure{at: 5 * time.Millisecond, worker: 0, class: "read: EOF", msg: "EOF"})
	b.fail(failure{at: time.Millisecond, worker: 1, class: "status 502", msg: "status 502 Bad Gateway"})
	b.fail(failure{at: 9 * time.Millisecond, worker: 1, class: "read: EOF", msg: "EOF"})
	r := merge([]*stats{a, b}, time.Second)
	if r.Sent != 5 || r.OK != 2 || r.Failed != 3 || r.Non2xx != 1 || r.Conns != 3 {
		t.Fatalf("bad merge: %+v", r)
	}
	if r.Errors["read: EOF"] != 2 || r.Errors["status 502"] != 1 || r.Max != 2*time.Millisecond {
		t.Fatalf("bad merge: %+v", r)
	}
	if len(r.FirstErrors) != 3 || !strings.HasPrefix(r.FirstErrors[0], "+1ms conn 1 [status 502]") {
		t.Fatalf("FirstErrors not in time order: %q", r.FirstErrors)
	}
	s := r.String()
	for _, want := range []string{"sent=5 ok=2 failed=3 non2xx=1 conns=3", "rps=5", "max=2ms",
		"errors={read: EOF: 2, status 502: 1}"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, missing %q", s, want)
		}
	}
	if strings.Contains(s, "\n") {
		t.Errorf("String() is not one line: %q", s)
	}
}

func TestIdleConnOK(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dial := func() (client, server net.Conn) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(); s.Close() })
		return c, s
	}
	c, s := dial()
	if !idleConnOK(c) {
		t.Fatal("open idle connection reported unusable")
	}
	s.Write([]byte("x"))
	waitFor(t, "stray bytes seen", func() bool { return !idleConnOK(c) })
	buf := make([]byte, 1)
	if n, err := c.Read(buf); n != 1 || err != nil { // the peek consumed nothing
		t.Fatalf("Read after peek = %d, %v", n, err)
	}
	c2, s2 := dial()
	s2.Close()
	waitFor(t, "close seen", func() bool { return !idleConnOK(c2) })
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
