package proxy

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/config"
)

// strictProxyServer is a worker behind --proxy-protocol as nginx's
// `listen ... proxy_protocol` is: every connection must start with a
// PROXY header, or it is closed unanswered. It answers one HTTP request
// per connection with 200, and sends what header it got on headers.
func strictProxyServer(t *testing.T) (addr string, headers <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan string, 100)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				br := bufio.NewReader(c)
				header, ok := readProxyHeader(br)
				if !ok {
					return // broken header: closed unanswered
				}
				select {
				case got <- header:
				default:
				}
				if _, err := br.ReadString('\n'); err != nil {
					return // a connect-only probe
				}
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
			}()
		}
	}()
	return ln.Addr().String(), got
}

// readProxyHeader reads a v1 or v2 PROXY header and names it: "v1 UNKNOWN",
// "v2 LOCAL", or what else it was; false if there is none.
func readProxyHeader(br *bufio.Reader) (string, bool) {
	first, err := br.Peek(12)
	if err != nil {
		return "", false
	}
	if bytes.Equal(first, v2Signature[:]) {
		h := make([]byte, 16)
		if _, err := io.ReadFull(br, h); err != nil {
			return "", false
		}
		n := int(h[14])<<8 | int(h[15])
		if _, err := io.CopyN(io.Discard, br, int64(n)); err != nil {
			return "", false
		}
		if h[12] == 0x20 {
			return "v2 LOCAL", true
		}
		return "v2 PROXY", true
	}
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "PROXY ") {
		return "", false
	}
	return "v1 " + strings.Fields(line)[1], true
}

// TestProbesSendThePROXYHeaderWorkersExpect: behind --proxy-protocol a
// worker rejects a connection without the header, so baton's own
// readiness probes (tcp and http:PATH) and liveness probes send one with
// no client address (v1 UNKNOWN, v2 LOCAL); without it an http:PATH
// probe never passes and the worker never becomes ready.
func TestProbesSendThePROXYHeaderWorkersExpect(t *testing.T) {
	addr, headers := strictProxyServer(t)
	ready := config.Readiness{Kind: config.ReadyHTTP, Path: "/healthz"}
	for _, c := range []struct {
		version int
		want    string
	}{{1, "v1 UNKNOWN"}, {2, "v2 LOCAL"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if ok, err := probeRecorded(ctx, probeOptions{Ready: ready, Addr: loopbackOf(t, addr), Header: localHeader(c.version)}, false); !ok {
			t.Fatalf("v%d: the http:/healthz probe did not pass: %v", c.version, err)
		}
		if got := nextHeader(t, headers); got != c.want {
			t.Errorf("v%d: the http probe sent %q, want %q", c.version, got, c.want)
		}
		if ok, err := probeRecorded(ctx, probeOptions{Ready: config.Readiness{Kind: config.ReadyTCP}, Addr: loopbackOf(t, addr), Header: localHeader(c.version)}, false); !ok {
			t.Fatalf("v%d: the tcp probe did not pass: %v", c.version, err)
		}
		if got := nextHeader(t, headers); got != c.want {
			t.Errorf("v%d: the tcp probe sent %q, want %q", c.version, got, c.want)
		}
		if err := answers(ctx, probeClient(5*time.Second, loopbackOf(t, addr), localHeader(c.version)), "http://"+addr+"/"); err != nil {
			t.Errorf("v%d: liveness probe: %v", c.version, err)
		} else if got := nextHeader(t, headers); got != c.want {
			t.Errorf("v%d: the liveness probe sent %q, want %q", c.version, got, c.want)
		}
		cancel()
	}

	// Without the header the same server never answers the http probe.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ok, last := probeRecorded(ctx, probeOptions{Ready: ready, Addr: loopbackOf(t, addr)}, true)
	if ok || last == nil {
		t.Fatalf("an http probe without a PROXY header: passed %v, last failure %v; want a failure (else the test cannot fail)", ok, last)
	}
}

// probeRecorded runs probe and also returns the last failure it reported
// (nil if none); with firstFailure it ends at the first, however slow
// the machine.
func probeRecorded(ctx context.Context, o probeOptions, firstFailure bool) (bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var last error
	o.Failed = func(err error) {
		last = err
		if firstFailure {
			cancel()
		}
	}
	return probe(ctx, o), last
}

// nextHeader is the next PROXY header the strict server got.
func nextHeader(t *testing.T, headers <-chan string) string {
	t.Helper()
	select {
	case h := <-headers:
		return h
	case <-time.After(30 * time.Second):
		t.Fatal("the strict server got no connection with a PROXY header")
		return ""
	}
}

// TestHTTPProbeSaysWhyItNeverPassed: a worker that answers 404, or
// redirects (a probe does not follow a redirect off the worker's port),
// never passes, and the probe says what the last answer was.
func TestHTTPProbeSaysWhyItNeverPassed(t *testing.T) {
	for _, c := range []struct {
		answer string
		want   string
	}{
		{"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "answered 404, not 2xx"},
		{"HTTP/1.1 301 Moved Permanently\r\nLocation: http://127.0.0.1:1/\r\nContent-Length: 0\r\n\r\n", "answered 301, not 2xx"},
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer conn.Close()
					_, _ = bufio.NewReader(conn).ReadString('\n')
					_, _ = io.WriteString(conn, c.answer)
				}()
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		ok, last := probeRecorded(ctx, probeOptions{Ready: config.Readiness{Kind: config.ReadyHTTP, Path: "/healthz"}, Addr: loopbackOf(t, ln.Addr().String())}, true)
		cancel()
		ln.Close()
		if ok || last == nil || !strings.Contains(last.Error(), c.want) {
			t.Errorf("probe of a worker answering %.12q: passed %v, last failure %v; want one saying %q", c.answer, ok, last, c.want)
		}
	}
}
