package worker

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// closingWriter adds "Connection: close" to a response whose headers go
// out while the server drains, so a request already running when the
// drain began also ends its connection. It keeps http.Flusher,
// http.Hijacker, io.ReaderFrom and http.ResponseController working.
type closingWriter struct {
	http.ResponseWriter
	d        *drainer
	wrote    bool
	hijacked bool
}

func (w *closingWriter) mark() {
	if w.wrote {
		return
	}
	w.wrote = true
	if w.d.draining.Load() {
		w.ResponseWriter.Header().Set("Connection", "close")
		w.d.answered.Add(1)
	}
}

func (w *closingWriter) WriteHeader(code int) {
	if code >= 200 { // not 1xx: 101 Switching Protocols keeps its Connection header
		w.mark()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *closingWriter) Write(b []byte) (int, error) {
	w.mark()
	return w.ResponseWriter.Write(b)
}

func (w *closingWriter) ReadFrom(r io.Reader) (int64, error) {
	w.mark()
	return io.Copy(w.ResponseWriter, r)
}

func (w *closingWriter) Flush() {
	w.mark()
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *closingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return c, rw, err
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *closingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
