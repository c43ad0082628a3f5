package proxy

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// maxBuffered is the largest request body kept in memory so that the
// request can be sent again to another worker.
const maxBuffered = 64 << 10

// replayBody gives each attempt of one request its body.
type replayBody struct {
	buf    []byte        // a small body, read whole: every attempt gets a copy
	stream *onceBody     // a large or chunked body: replayable only while unread
	orig   io.ReadCloser // what the client sent, closed at the end
}

// newReplayBody prepares req's body for attempts: small bodies of known
// length are read into memory; others stream, and can be sent again only
// while no byte of them was read.
func newReplayBody(req *http.Request) (*replayBody, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return &replayBody{}, nil
	}
	rb := &replayBody{orig: req.Body}
	if req.ContentLength > 0 && req.ContentLength <= maxBuffered {
		b, err := io.ReadAll(io.LimitReader(req.Body, req.ContentLength))
		if err != nil {
			return nil, fmt.Errorf("read the request body: %w", err)
		}
		rb.buf = b
		return rb, nil
	}
	rb.stream = &onceBody{r: req.Body}
	return rb, nil
}

// next returns the body for one more attempt.
func (rb *replayBody) next() io.ReadCloser {
	switch {
	case rb.buf != nil:
		return io.NopCloser(bytes.NewReader(rb.buf))
	case rb.stream != nil:
		return rb.stream
	}
	return nil
}

// replayable says whether another attempt can send the whole body again.
func (rb *replayBody) replayable() bool {
	return rb.stream == nil || !rb.stream.read.Load()
}

// close closes the client's body.
func (rb *replayBody) close() {
	if rb.orig != nil {
		rb.orig.Close()
	}
}

// onceBody streams a body and records whether any of it was read. Its
// Close does nothing: the transport closes a request's body even when it
// failed before sending it, and a retry still needs it.
type onceBody struct {
	r    io.Reader
	read atomic.Bool
}

func (o *onceBody) Read(p []byte) (int, error) {
	o.read.Store(true)
	return o.r.Read(p)
}

func (o *onceBody) Close() error { return nil }

// releasing is a response body that releases its backend's count of
// requests in flight once it is closed (the response was copied to the
// client, or the client went away).
type releasing struct {
	io.ReadCloser
	once sync.Once
	b    *Backend
}

func (r *releasing) Close() error {
	err := r.ReadCloser.Close()
	r.once.Do(r.b.Release)
	return err
}

// releasingConn is the body of a 101 Switching Protocols response: the
// upgraded connection itself, written to as well; the backend counts it
// in flight until it is closed.
type releasingConn struct {
	releasing
	w io.Writer
}

func (r *releasingConn) Write(p []byte) (int, error) { return r.w.Write(p) }

// releaseOnClose wraps resp's body so that closing it releases b.
func releaseOnClose(resp *http.Response, b *Backend) {
	body := resp.Body
	if body == nil {
		body = http.NoBody
	}
	if rw, ok := body.(io.ReadWriteCloser); ok && resp.StatusCode == http.StatusSwitchingProtocols {
		resp.Body = &releasingConn{releasing: releasing{ReadCloser: rw, b: b}, w: rw}
		return
	}
	resp.Body = &releasing{ReadCloser: body, b: b}
}
