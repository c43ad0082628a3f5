package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestIdleKeepAliveClientsHoldNoReadBuffer: a client connection waiting
// for its next request holds no reader (thousands of idle keep-alive
// clients would each hold 8 KiB), and each still gets its next answer,
// whether its request comes in one piece or byte by byte.
func TestIdleKeepAliveClientsHoldNoReadBuffer(t *testing.T) {
	pool := NewPool(time.Second)
	pool.Add(httpBackend(t, okHandler("hello")))
	h, ln := serveHTTP(t, pool)
	const clients = 50
	type client struct {
		c  net.Conn
		br *bufio.Reader
	}
	var cs []client
	ask := func(cl client, slowly bool) {
		t.Helper()
		req := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
		if slowly {
			for i := range req { // the head arrives in pieces, across idle waits
				if _, err := io.WriteString(cl.c, req[i:i+1]); err != nil {
					t.Fatal(err)
				}
			}
		} else if _, err := io.WriteString(cl.c, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(cl.br, nil)
		if err != nil {
			t.Fatalf("answer: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "hello") {
			t.Fatalf("answer: %d %q", resp.StatusCode, b)
		}
	}
	for i := 0; i < clients; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		cl := client{c, bufio.NewReader(c)}
		cs = append(cs, cl)
		ask(cl, false)
	}
	waitFor(t, "every idle client's reader handed back", func() bool { return h.idleBufs.lent.Load() == 0 })
	for i, cl := range cs {
		ask(cl, i%2 == 0)
	}
	waitFor(t, "the readers handed back again", func() bool { return h.idleBufs.lent.Load() == 0 })
}
