package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// dialTimeout bounds one connect to a worker's private port.
const dialTimeout = 5 * time.Second

// TCP forwards connections (L4) to the pool's backends.
type TCP struct {
	Pool *Pool
	// ProxyProtocol is 1 or 2 to send a PROXY protocol header first; 0: none.
	ProxyProtocol int
	Log           *slog.Logger

	bytesIn, bytesOut atomic.Uint64 // client → worker, worker → client
	conns             sync.WaitGroup
}

// Bytes returns the bytes forwarded so far, from clients to workers and back.
func (t *TCP) Bytes() (in, out uint64) { return t.bytesIn.Load(), t.bytesOut.Load() }

// Serve accepts on ln until it is closed, forwarding each connection.
func (t *TCP) Serve(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// EMFILE and the like: back off a little instead of spinning.
			t.Log.Warn("proxy: accept", "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		t.conns.Add(1)
		go func() {
			defer t.conns.Done()
			t.forward(c)
		}()
	}
}

// Wait waits until every forwarded connection ended, or ctx does.
func (t *TCP) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { t.conns.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// forward connects client to a backend (retrying another one when a dial
// fails: nothing was sent yet) and copies both ways until both are done.
func (t *TCP) forward(client net.Conn) {
	defer client.Close()
	up, b, err := t.connect(client)
	if err != nil {
		t.Pool.counters.Failed.Add(1)
		t.Log.Debug("proxy: no worker for a connection", "client", client.RemoteAddr().String(), "err", err)
		return
	}
	defer b.Release()
	defer up.Close()
	if err := t.sendHeader(up, client); err != nil {
		t.Pool.counters.Failed.Add(1)
		return
	}
	t.pipe(client, up)
}

// connect picks a backend and dials it; a refused dial (a worker that just
// died, or is not listening yet) is tried on another one. While no worker
// is ready it waits, until the pool's wait ends or the client goes away.
func (t *TCP) connect(client net.Conn) (net.Conn, *Backend, error) {
	tried := map[*Backend]bool{}
	var watch *clientWatch
	defer func() {
		if watch != nil {
			watch.stop()
		}
	}()
	for {
		b, err := t.Pool.PickNow(tried)
		if b == nil && err == nil {
			if watch == nil {
				watch = watchClient(client)
			}
			b, err = t.Pool.Pick(watch.ctx, tried)
		}
		if err != nil {
			return nil, nil, err
		}
		up, err := b.dial(context.Background(), &net.Dialer{Timeout: dialTimeout})
		if err == nil {
			return up, b, nil
		}
		b.Release()
		tried[b] = true
		t.Pool.counters.Retries.Add(1)
		t.Log.Debug("proxy: dial worker failed, trying another", "slot", b.Slot, "addr", b.Addr(), "err", err)
	}
}

// sendHeader writes the PROXY protocol header, when configured.
func (t *TCP) sendHeader(up, client net.Conn) error {
	if t.ProxyProtocol == 0 {
		return nil
	}
	h, err := proxyHeader(t.ProxyProtocol, client.RemoteAddr(), client.LocalAddr())
	if err != nil {
		return fmt.Errorf("proxy protocol header: %w", err)
	}
	_, err = up.Write(h)
	return err
}

// pipe copies both ways. io.Copy between two *net.TCPConn splices in the
// kernel on Linux, so the copies get the connections themselves, never a
// wrapper; the byte counts come from io.Copy's results. When one side
// ends its sending, the other side's sending is closed too (half-close);
// an error on either side ends both.
func (t *TCP) pipe(client, up net.Conn) {
	done := make(chan struct{})
	go func() {
		n, err := io.Copy(up, client)
		t.bytesIn.Add(uint64(n))
		t.Pool.counters.BytesIn.Add(uint64(n))
		endCopy(up, client, err)
		close(done)
	}()
	n, err := io.Copy(client, up)
	t.bytesOut.Add(uint64(n))
	t.Pool.counters.BytesOut.Add(uint64(n))
	endCopy(client, up, err)
	<-done
}

// endCopy ends one direction: dst's sending is half-closed after a clean
// end of src; after an error, both connections are closed so that the
// other direction ends too.
func endCopy(dst, src net.Conn, err error) {
	if err != nil {
		dst.Close()
		src.Close()
		return
	}
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		if cw.CloseWrite() == nil {
			return
		}
	}
	dst.Close()
}
