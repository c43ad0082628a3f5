package proxy

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/e2etest"
)

// FuzzHTTPFront sends whatever a client may send to --proxy http and then
// ends its sending: the proxy must end the connection by itself (answer
// what it can, refuse or hand over the rest, never wait for more), never
// panic, and go on answering a plain request afterwards.
func FuzzHTTPFront(f *testing.F) {
	for _, seed := range []string{
		"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
		"POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 50\r\n\r\nshort",
		"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"POST /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
		"GET /old HTTP/1.0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nHost: h\r\n\r\n",
		"GET http://elsewhere/x HTTP/1.1\r\nHost: h\r\nConnection: X, Keep-Alive\r\nX: y\r\nTe: trailers\r\n\r\n",
		"GET / HTTP/1.1\nHost: h\n\n",
		"HEAD /h HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + strings.Repeat("y", 9000) + "\r\n\r\n",
		"\x00\x01\x02 HTTP/9.9\r\n\r\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	logs := &e2etest.SyncBuffer{}
	pool := NewPool(time.Second)
	pool.Add(httpBackend(f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok "+r.Method)
	})))
	h := NewHTTP(pool, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError})))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	go func() { _ = h.Serve(ln) }()
	f.Cleanup(func() { _ = h.Close() })
	addr := ln.Addr().String()

	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(raw); err != nil {
			return // the proxy closed on what it read already
		}
		_ = c.(*net.TCPConn).CloseWrite()
		if _, err := io.Copy(io.Discard, c); err != nil && !errors.Is(err, syscall.ECONNRESET) { // a reset: closed with input unread
			t.Fatalf("the proxy did not end the connection after the client's input ended: %v\ninput %q", err, raw)
		}
		if l := logs.String(); strings.Contains(l, "panic") {
			t.Fatalf("the proxy panicked on %q:\n%s", raw, l)
		}
		if code, body := get(t, "GET", "http://"+addr+"/", ""); code != 200 || body != "ok GET" {
			t.Fatalf("after %q: a plain GET got %d %q", raw, code, body)
		}
	})
}
