package loadtest

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
)

func TestRunAllOK(t *testing.T) {
	body := []byte(`{"hello":"baton"}`)
	var served atomic.Int64
	var addr string
	addr, accepted := startHTTP(t, func(w http.ResponseWriter, r *http.Request) {
		got, _ := io.ReadAll(r.Body)
		switch {
		case r.Method != http.MethodPost, r.Host != addr, r.ContentLength != int64(len(body)),
			r.Header.Get("Idempotency-Key") != "", !bytes.Equal(got, body):
			t.Errorf("bad request: %s %s host=%q len=%d idem=%q body=%q", r.Method, r.URL,
				r.Host, r.ContentLength, r.Header.Get("Idempotency-Key"), got)
		}
		n := served.Add(1)
		w.Write([]byte("echo " + strconv.FormatInt(n, 10) + " " + string(got)))
	})
	var seen, good atomic.Int64
	res, err := Run(testCtx(t), Options{
		Addr: addr, Conns: 4, Body: body, Requests: 500,
		OnResponse: func(status int, b []byte) {
			seen.Add(1)
			if status == 200 && bytes.HasPrefix(b, []byte("echo ")) && bytes.HasSuffix(b, body) {
				good.Add(1)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, res)
	check(t, res, "Sent", res.Sent, 500)
	check(t, res, "OK", res.OK, 500)
	check(t, res, "Failed", res.Failed, 0)
	check(t, res, "served", served.Load(), 500)
	check(t, res, "OnResponse calls", seen.Load(), 500)
	check(t, res, "OnResponse good bodies", good.Load(), 500)
	check(t, res, "Conns (server side)", accepted.Load(), res.Conns)
	if res.Conns < 1 || res.Conns > 4 {
		t.Errorf("Conns = %d, want 1..4 (keep-alive)", res.Conns)
	}
}

func TestConnectionCloseReconnects(t *testing.T) {
	var served atomic.Int64
	addr, accepted := startHTTP(t, func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1)%3 == 0 {
			w.Header().Set("Connection", "close")
		}
		w.Write([]byte("ok"))
	})
	res, err := Run(testCtx(t), Options{Addr: addr, Conns: 3, Requests: 300})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, res)
	check(t, res, "OK", res.OK, 300)
	check(t, res, "Failed", res.Failed, 0)
	check(t, res, "served", served.Load(), 300)
	check(t, res, "Conns (server side)", accepted.Load(), res.Conns)
	if res.Conns < 100 {
		t.Errorf("Conns = %d, want >= 100 (one per Connection: close)", res.Conns)
	}
}

// A server that closes a keep-alive connection after a complete response,
// without saying Connection: close, must cause a reconnect, not a failure.
func TestServerClosesAfterResponse(t *testing.T) {
	closed := make(chan struct{}, 100) // never blocks the server
	var served atomic.Int64
	addr := startRaw(t, func(c *net.TCPConn, br *bufio.Reader) {
		if readRequest(br) != nil {
			return
		}
		served.Add(1)
		c.Write([]byte(okResponse))
		c.Close()
		closed <- struct{}{}
	})
	ctx := testCtx(t)
	res, err := Run(ctx, Options{
		Addr: addr, Requests: 50,
		// Hold the worker until the server has closed, so the close is
		// there to be seen before the next request goes out.
		OnResponse: func(int, []byte) {
			select {
			case <-closed:
			case <-ctx.Done():
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, res)
	check(t, res, "OK", res.OK, 50)
	check(t, res, "Conns", res.Conns, 50)
	check(t, res, "served", served.Load(), 50)
}

// Requests the server reads and then drops (close or reset) are failures,
// counted once and never re-sent.
func TestDroppedRequestsFailOnce(t *testing.T) {
	var served atomic.Int64
	addr := startRaw(t, func(c *net.TCPConn, br *bufio.Reader) {
		for readRequest(br) == nil {
			switch served.Add(1) % 4 {
			case 1: // close without answering: the client reads EOF
				return
			case 2: // reset
				c.SetLinger(0)
				return
			default:
				c.Write([]byte(okResponse))
			}
		}
	})
	res, err := Run(testCtx(t), Options{Addr: addr, Conns: 4, Requests: 200})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, res)
	check(t, res, "Sent", res.Sent, 200)
	check(t, res, "served (no re-sends)", served.Load(), res.Sent)
	check(t, res, "OK", res.OK, 100)
	check(t, res, "Failed", res.Failed, 100)
	check(t, res, "read: EOF", res.Errors["read: EOF"], 50)
	check(t, res, "read: connection reset", res.Errors["read: connection reset"], 50)
}

func TestDialRefused(t *testing.T) {
	res, err := Run(testCtx(t), Options{Addr: closedAddr(t), Conns: 2, Requests: 20})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, res)
	check(t, res, "Sent", res.Sent, 20)
	check(t, res, "Failed", res.Failed, 20)
	check(t, res, "dial: connection refused", res.Errors["dial: connection refused"], 20)
	check(t, res, "Conns", res.Conns, 0)
}

func TestNon2xxFails(t *testing.T) {
	var served atomic.Int64
	addr, _ := startHTTP(t, func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1)%2 == 0 {
			http.Error(w, "upstream gone", http.StatusBadGateway)
			return
		}
		w.Write([]byte("ok"))
	})
	var bad atomic.Int64
	res, err := Run(testCtx(t), Options{
		Addr: addr, Conns: 2, Requests: 100,
		OnResponse: func(status int, body []byte) {
			if status == http.StatusBadGateway && string(body) == "upstream gone\n" {
				bad.Add(1)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, res)
	check(t, res, "OK", res.OK, 50)
	check(t, res, "Failed", res.Failed, 50)
	check(t, res, "Non2xx", res.Non2xx, 50)
	check(t, res, "status 502", res.Errors["status 502"], 50)
	check(t, res, "OnResponse 502s", bad.Load(), 50)
}

func TestUnixSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "lt") // short: socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	serveHTTP(t, ln, func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "localhost" {
			t.Errorf("Host = %q, want localhost", r.Host)
		}
		w.Write([]byte("ok"))
	})
	res, err := Run(testCtx(t), Options{Network: "unix", Addr: path, Conns: 2, Requests: 100})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, res)
	check(t, res, "OK", res.OK, 100)
	check(t, res, "Failed", res.Failed, 0)
}
