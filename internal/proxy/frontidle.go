package proxy

import (
	"bufio"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"syscall"
)

// A client connection waiting for its next request holds no buffer: its
// reader goes back to a pool, and the wait reads the request's first
// bytes into a pooled buffer only once they have arrived, as nginx frees
// an idle keep-alive connection's buffers. Thousands of idle keep-alive
// clients then cost the master their goroutines and sockets, not 8 KiB
// of read buffer each. The wait makes the same system calls as a read
// through the reader would: the read that finds nothing, then the one
// that gets the request.

// frontBuffers are the pools the front's client connections share: their
// readers, and the buffers their idle waits read first bytes into.
type frontBuffers struct {
	readers sync.Pool // *bufio.Reader of frontBuffer bytes
	first   sync.Pool // *[]byte of frontBuffer bytes
	lent    atomic.Int64
}

// reader lends a reader; putReader takes it back.
func (b *frontBuffers) reader() *bufio.Reader {
	b.lent.Add(1)
	if r, ok := b.readers.Get().(*bufio.Reader); ok {
		return r
	}
	return bufio.NewReaderSize(nil, frontBuffer)
}

func (b *frontBuffers) putReader(r *bufio.Reader) {
	r.Reset(nil)
	b.readers.Put(r)
	b.lent.Add(-1)
}

func (b *frontBuffers) firstBytes() *[]byte {
	if p, ok := b.first.Get().(*[]byte); ok {
		return p
	}
	p := make([]byte, frontBuffer)
	return &p
}

// frontSource is what a client connection's reader reads: the first
// bytes of a request, read by the idle wait, then the connection.
type frontSource struct {
	c       *frontConn
	first   *[]byte // pooled; nil once handed back
	pending []byte  // what is left of first
}

func (s *frontSource) Read(p []byte) (int, error) {
	if len(s.pending) == 0 {
		return s.c.nc.Read(p)
	}
	n := copy(p, s.pending)
	s.pending = s.pending[n:]
	if len(s.pending) == 0 {
		s.release()
	}
	return n, nil
}

// release hands the first bytes' buffer back.
func (s *frontSource) release() {
	if s.first != nil {
		s.c.h.idleBufs.first.Put(s.first)
		s.first, s.pending = nil, nil
	}
}

// waitIdle waits for the client's next request with no buffer held, when
// nothing of it is buffered yet; then c.br reads it. The error is the
// wait's: the client left, its idle timeout, or the drain's deadline.
func (c *frontConn) waitIdle() error {
	if c.br != nil && c.br.Buffered() > 0 {
		return nil // pipelined: already read
	}
	c.dropReader()
	bufs := c.h.idleBufs
	var first *[]byte
	var n int
	var rerr error
	err := c.raw.Read(func(fd uintptr) bool {
		first = bufs.firstBytes()
		for {
			n, rerr = syscall.Read(int(fd), *first)
			if !errors.Is(rerr, syscall.EINTR) {
				break
			}
		}
		if errors.Is(rerr, syscall.EAGAIN) {
			bufs.first.Put(first)
			first = nil
			return false // nothing yet: wait, holding no buffer
		}
		return true
	})
	if err != nil {
		return err
	}
	if rerr != nil || n <= 0 {
		bufs.first.Put(first)
		if rerr == nil {
			rerr = io.EOF // the client closed
		}
		return rerr
	}
	c.src = frontSource{c: c, first: first, pending: (*first)[:n]}
	c.br = bufs.reader()
	c.br.Reset(&c.src)
	return nil
}

// dropReader hands back what the connection holds to read with: when it
// waits, and when it ends.
func (c *frontConn) dropReader() {
	c.src.release()
	if c.br != nil {
		c.h.idleBufs.putReader(c.br)
		c.br = nil
	}
}
