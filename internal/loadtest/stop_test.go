package loadtest

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Requests in flight when the context ends finish and count normally.
func TestCancelFinishesInFlight(t *testing.T) {
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	var served atomic.Int64
	addr, _ := startHTTP(t, func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) == 8 {
			cancel() // stop while this request (and others) are in flight
		}
		time.Sleep(20 * time.Millisecond) // simulated work, not a wait
		w.Write([]byte("ok"))
	})
	res, err := Run(ctx, Options{Addr: addr, Conns: 4})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, res)
	check(t, res, "Failed", res.Failed, 0)
	check(t, res, "served", served.Load(), res.Sent)
	if res.Sent < 8 {
		t.Errorf("Sent = %d, want >= 8", res.Sent)
	}
}

func TestDurationStops(t *testing.T) {
	addr, _ := startHTTP(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	res, err := Run(context.Background(), Options{Addr: addr, Conns: 2, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, res)
	check(t, res, "Failed", res.Failed, 0)
	if res.Sent == 0 || res.Elapsed < 100*time.Millisecond || res.Elapsed > 5*time.Second {
		t.Errorf("want some requests over ~100ms, got %v", res)
	}
}

func TestCanceledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Run(ctx, Options{Addr: closedAddr(t), Conns: 4})
	if err != nil {
		t.Fatal(err)
	}
	check(t, res, "Sent", res.Sent, 0)
}

func TestRequestTimeout(t *testing.T) {
	var served atomic.Int64
	addr := startRaw(t, func(c *net.TCPConn, br *bufio.Reader) {
		for readRequest(br) == nil {
			served.Add(1) // and never answer
		}
	})
	res, err := Run(testCtx(t), Options{Addr: addr, Requests: 3, RequestTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, res)
	check(t, res, "Failed", res.Failed, 3)
	check(t, res, "timeout", res.Errors["timeout"], 3)
	check(t, res, "served", served.Load(), 3)
	check(t, res, "Conns", res.Conns, 3)
}

func TestMalformedResponse(t *testing.T) {
	addr := startRaw(t, func(c *net.TCPConn, br *bufio.Reader) {
		if readRequest(br) == nil {
			c.Write([]byte("SPDY/9 banana\r\n\r\n"))
		}
	})
	res, err := Run(testCtx(t), Options{Addr: addr, Requests: 5})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, res)
	check(t, res, "read: malformed response", res.Errors["read: malformed response"], 5)
	if !strings.Contains(res.FirstErrors[0], "malformed HTTP") {
		t.Errorf("FirstErrors[0] = %q, want the verbatim parse error", res.FirstErrors[0])
	}
}

func TestInvalidOptions(t *testing.T) {
	ctx := testCtx(t)
	for name, o := range map[string]Options{
		"no addr":     {Requests: 1},
		"network":     {Network: "udp", Addr: "x:1", Requests: 1},
		"negative":    {Addr: "x:1", Conns: -1, Requests: 1},
		"method":      {Addr: "x:1", Method: "GE T", Requests: 1},
		"path":        {Addr: "x:1", Path: "no-slash", Requests: 1},
		"path crlf":   {Addr: "x:1", Path: "/a\r\nX: y", Requests: 1},
		"host":        {Addr: "x:1", Host: "a b", Requests: 1},
		"unbounded":   {Addr: "x:1"},
		"unbounded 2": {Addr: "x:1", Conns: 3},
	} {
		c := ctx
		if name == "unbounded" || name == "unbounded 2" {
			c = context.Background()
		}
		if _, err := Run(c, o); err == nil {
			t.Errorf("%s: Run(%+v) succeeded, want an error", name, o)
		}
	}
}
