package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The front is the client side of --proxy http for plain requests: each
// client connection is read, and each plain request answered, by one
// goroutine, with no goroutine of its own per request. A request it does
// not take (an upgrade, Expect: 100-continue, a body that is chunked or
// larger than singleWrite, a head larger than frontBuffer) is
// handed, with its connection, to the net/http server and the reverse
// proxy behind it (http.go), which serve that connection from then on.
//
// Measured under wrk (BENCHMARKS.md), net/http's server and reverse
// proxy cost the master about as much CPU a request as the app itself: a
// goroutine per request reading the client in the background, and a
// request and a response rebuilt field by field.

// frontBuffer is the size of a client connection's read buffer: a
// request head longer than this goes to the net/http server.
const frontBuffer = 8 << 10

// watchAfter: a request still waiting for its response this long starts
// watching its client connection, so that a client that goes away
// cancels the request (a long poll) rather than leaving it to the worker.
const watchAfter = 100 * time.Millisecond

// Client connection states, for a drain.
const (
	frontActive  int32 = iota // reading or answering a request
	frontIdle                 // waiting for the next request
	frontClosing              // the drain closes it once it is idle
)

// frontConn is one client connection served by the front.
type frontConn struct {
	h     *HTTP
	nc    net.Conn
	raw   syscall.RawConn
	br    *bufio.Reader // from h.idleBufs while a request is read; nil while idle (frontidle.go)
	src   frontSource   // what br reads
	out   bytes.Buffer  // a response, or its head when the body streams
	head  []byte        // the current request's head, kept for a hand-over
	ip    string        // the client's address, for X-Forwarded-For
	state atomic.Int32
}

// acceptFront takes a new client connection: counted at once, so that a
// drain that begins now waits for it, and served in a goroutine of its
// own.
func (h *HTTP) acceptFront(nc net.Conn) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		h.handOver(nc, nil)
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		h.handOver(nc, nil)
		return
	}
	c := &frontConn{h: h, nc: nc, raw: raw}
	// The idle timeout before it is counted idle: a drain that closes it
	// from then on sets a deadline in the past after this one.
	_ = nc.SetReadDeadline(time.Now().Add(clientIdleTimeout))
	c.state.Store(frontIdle)
	if !h.track(c) {
		nc.Close()
		return
	}
	go h.serveFront(c)
}

// serveFront reads and answers requests on c until the client or the
// proxy closes it, or hands it to the net/http server.
func (h *HTTP) serveFront(c *frontConn) {
	nc := c.nc
	c.ip, _, _ = net.SplitHostPort(nc.RemoteAddr().String())
	handed := false
	defer func() {
		if r := recover(); r != nil { // one client's connection, never the master
			h.Log.Error("proxy: panic serving a client connection", "panic", r, "stack", string(debug.Stack()))
		}
		h.untrack(c)
		c.dropReader()
		if !handed {
			nc.Close()
		}
	}()
	for {
		if err := c.waitIdle(); err != nil {
			return // the client left, its idle timeout, or the drain
		}
		if !c.state.CompareAndSwap(frontIdle, frontActive) {
			return // the drain closes idle connections
		}
		_ = nc.SetReadDeadline(time.Now().Add(readHeaderTimeout))
		req, handover, bad := c.readRequest()
		switch {
		case bad:
			c.badRequest()
			return
		case handover != nil:
			handed = true
			h.handOver(nc, handover)
			return
		case req == nil:
			return
		}
		keep, err := c.answer(req)
		if err != nil || !keep {
			return
		}
		if c.state.Load() == frontActive { // answered piece by piece: not waiting yet
			_ = nc.SetReadDeadline(time.Now().Add(clientIdleTimeout))
			c.state.Store(frontIdle)
		}
	}
}

// readRequest reads the next request's head. It returns the request when
// the front takes it; else, to hand the connection over, what was read
// of it (handover), or bad for what is not an HTTP request.
func (c *frontConn) readRequest() (req *http.Request, handover []byte, bad bool) {
	head, err := c.peekHead()
	if err != nil {
		return nil, nil, false // the client left, or its head's deadline passed
	}
	if head == nil {
		return nil, c.buffered(nil), false
	}
	c.head = append(c.head[:0], head...)
	req, err = http.ReadRequest(c.br)
	if err != nil {
		return nil, nil, true
	}
	if !plainRequest(req) || !oneHost(c.head) {
		return nil, c.buffered(c.head), false
	}
	if req.ContentLength > 0 {
		body := make([]byte, req.ContentLength)
		if _, err := io.ReadFull(req.Body, body); err != nil {
			return nil, nil, true
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	return req, nil, false
}

// peekHead returns the buffered head of the next request, reading until
// its empty line; nil when it does not fit in the buffer; an error when
// the client stopped sending.
func (c *frontConn) peekHead() ([]byte, error) {
	for n := 1; ; {
		if _, err := c.br.Peek(n); err != nil {
			return nil, err
		}
		buf, _ := c.br.Peek(c.br.Buffered())
		if i := bytes.Index(buf, []byte("\n\r\n")); i >= 0 {
			return buf[:i+3], nil
		}
		if i := bytes.Index(buf, []byte("\n\n")); i >= 0 {
			return buf[:i+2], nil
		}
		if len(buf) >= frontBuffer {
			return nil, nil
		}
		n = len(buf) + 1
	}
}

// buffered is head followed by what the client sent that was not read
// yet: for the net/http server to read first.
func (c *frontConn) buffered(head []byte) []byte {
	rest, _ := c.br.Peek(c.br.Buffered())
	out := append(make([]byte, 0, len(head)+len(rest)+len(c.src.pending)), head...)
	return append(append(out, rest...), c.src.pending...)
}

// plainRequest: what the front answers itself (HTTP/1.1 and 1.0).
// Everything else goes to the net/http server with its connection.
func plainRequest(req *http.Request) bool {
	if req.ProtoMajor != 1 || req.ProtoMinor > 1 || req.Method == http.MethodConnect {
		return false
	}
	if len(req.TransferEncoding) > 0 || req.ContentLength < 0 || req.ContentLength > singleWrite {
		return false
	}
	h := req.Header
	if len(h["Upgrade"]) > 0 || len(h["Expect"]) > 0 || len(h["Trailer"]) > 0 {
		return false
	}
	return req.Host != ""
}

// oneHost says whether a request head has exactly one Host field (the
// net/http server answers 400 otherwise; http.ReadRequest keeps the
// first).
func oneHost(head []byte) bool {
	n := 0
	for i := bytes.IndexByte(head, '\n'); i >= 0; {
		line := head[i+1:]
		if len(line) >= 5 && bytes.EqualFold(line[:5], []byte("host:")) {
			n++
		}
		j := bytes.IndexByte(line, '\n')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return n == 1
}

// answer sends req to a worker and its response to the client; keep says
// whether the connection may carry another request.
func (c *frontConn) answer(in *http.Request) (keep bool, err error) {
	h := c.h
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := c.outgoing(ctx, in)
	watch := c.watchRequest(cancel)
	resp, err := h.rt.RoundTrip(out)
	watch.stop()
	keep = !in.Close && !h.draining.Load() // a drain that began meanwhile too
	if err != nil {
		h.Pool.counters.Failed.Add(1)
		if watch.gone.Load() {
			return false, errors.New("the client went away")
		}
		h.Log.Debug("proxy: request failed", "method", in.Method, "path", in.URL.Path, "err", err)
		code, text := http.StatusBadGateway, "502 the worker failed to answer\n"
		if noWorker(err) {
			code, text = http.StatusServiceUnavailable, "503 no worker is ready\n"
		}
		h.Pool.counters.CountResponse(code)
		return keep, c.sendError(in, code, text, keep)
	}
	defer resp.Body.Close()          // respond closed it, unless it failed
	return c.respond(in, resp, keep) // counts the response it sends
}

// outgoing is the request as the worker gets it, as the reverse proxy
// would send it: hop-by-hop headers removed, X-Forwarded-For, -Host and
// -Proto set, the client's Host kept.
func (c *frontConn) outgoing(ctx context.Context, in *http.Request) *http.Request {
	out := in.WithContext(ctx)
	u := *in.URL
	u.Scheme, u.Host = "http", "worker"
	out.URL = &u
	out.RequestURI = ""
	out.Close = false
	hdr := in.Header
	removeHopByHop(hdr)
	delete(hdr, "Forwarded")
	if c.ip != "" {
		hdr["X-Forwarded-For"] = []string{c.ip}
	} else {
		delete(hdr, "X-Forwarded-For")
	}
	hdr["X-Forwarded-Host"] = []string{in.Host}
	hdr["X-Forwarded-Proto"] = []string{"http"}
	if _, ok := hdr["User-Agent"]; !ok {
		hdr["User-Agent"] = []string{""} // not Go's own
	}
	if in.ContentLength == 0 {
		out.Body = nil
	}
	return out
}

// hopByHop are the headers of one connection, never forwarded (RFC 9110
// 7.6.1), besides those that Connection names.
var hopByHop = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func removeHopByHop(h http.Header) {
	for _, v := range h["Connection"] {
		for _, name := range strings.Split(v, ",") {
			if name = textproto.TrimString(name); name != "" {
				delete(h, http.CanonicalHeaderKey(name))
			}
		}
	}
	for _, k := range hopByHop {
		if k == "Te" && len(h[k]) > 0 && strings.EqualFold(textproto.TrimString(h[k][0]), "trailers") {
			h[k] = []string{"trailers"}
			continue
		}
		delete(h, k)
	}
}

// respond writes resp to the client: small bodies of known length with
// their head in one write, others piece by piece as the worker sends them
// (chunked when their length is unknown; to an HTTP/1.0 client, which
// knows no chunks, until the connection closes).
func (c *frontConn) respond(in *http.Request, resp *http.Response, keep bool) (bool, error) {
	hdr := resp.Header
	removeHopByHop(hdr)
	code := resp.StatusCode
	noBody := bodyless(in.Method, code)
	unknown := !noBody && resp.ContentLength < 0
	chunked := unknown && in.ProtoMinor >= 1
	if unknown && !chunked {
		keep = false // the end of the body is the end of the connection
	}
	if code == http.StatusNoContent {
		delete(hdr, "Content-Length")
	} else if !noBody && !unknown {
		hdr["Content-Length"] = []string{strconv.FormatInt(resp.ContentLength, 10)}
	}
	if chunked {
		hdr["Transfer-Encoding"] = []string{"chunked"}
		if len(resp.Trailer) > 0 {
			names := make([]string, 0, len(resp.Trailer))
			for k := range resp.Trailer {
				names = append(names, k)
			}
			hdr["Trailer"] = []string{strings.Join(names, ", ")}
		}
	}
	if v := connectionValue(in, keep); v != "" {
		hdr["Connection"] = []string{v}
	}
	if _, ok := hdr["Date"]; !ok {
		hdr["Date"] = []string{time.Now().UTC().Format(http.TimeFormat)}
	}
	b := &c.out
	b.Reset()
	b.WriteString(statusLineProto(in))
	b.WriteString(strconv.Itoa(code))
	b.WriteByte(' ')
	text := http.StatusText(code)
	if text == "" {
		text = "status code " + strconv.Itoa(code)
	}
	b.WriteString(text)
	b.WriteString("\r\n")
	if err := hdr.Write(b); err != nil {
		return false, err
	}
	b.WriteString("\r\n")
	if !noBody && (unknown || resp.ContentLength > bufferedResponse) {
		c.h.Pool.counters.CountResponse(code)
		return keep, c.stream(resp, chunked)
	}
	if !noBody {
		if _, err := io.Copy(b, resp.Body); err != nil {
			// The worker failed in the middle, and the client got nothing
			// yet: it gets a 502 rather than a connection closed unanswered.
			c.h.Log.Debug("proxy: response cut", "method", in.Method, "path", in.URL.Path, "err", err)
			c.h.Pool.counters.Failed.Add(1)
			c.h.Pool.counters.CountResponse(http.StatusBadGateway)
			return false, c.sendError(in, http.StatusBadGateway, "502 the worker failed to answer\n", false)
		}
	}
	// The request ends here: its worker connection is free and the
	// worker's count of requests in flight drops before the client is
	// answered (and finish waits for its next request).
	resp.Body.Close()
	c.h.Pool.counters.CountResponse(code)
	return keep, c.finish(keep)
}

// stream writes the head, then each piece of the body as it comes; the
// body is closed once read to its end.
func (c *frontConn) stream(resp *http.Response, chunked bool) error {
	if _, err := c.nc.Write(c.out.Bytes()); err != nil {
		return err
	}
	bufp := c.h.buffers.Get()
	defer c.h.buffers.Put(bufp)
	buf := bufp
	var chunk [20]byte
	for {
		n, rerr := resp.Body.Read(buf)
		if rerr == io.EOF {
			resp.Body.Close() // before the last write: the worker connection is free
		}
		if n > 0 {
			var err error
			if chunked {
				head := strconv.AppendInt(chunk[:0], int64(n), 16)
				head = append(head, '\r', '\n')
				bufs := net.Buffers{head, buf[:n], []byte("\r\n")}
				_, err = bufs.WriteTo(c.nc)
			} else {
				_, err = c.nc.Write(buf[:n])
			}
			if err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr // cut: the client sees the response end early
		}
	}
	if !chunked {
		return nil
	}
	c.out.Reset()
	c.out.WriteString("0\r\n")
	if err := resp.Trailer.Write(&c.out); err != nil {
		return err
	}
	c.out.WriteString("\r\n")
	_, err := c.nc.Write(c.out.Bytes())
	return err
}

// finish writes the response in c.out, and marks a connection that stays
// open idle, with the client's idle timeout. (The wait for the client's
// next request is not armed before this write, as the upstream client's
// is: a client may have sent its next request already, pipelined or with
// its FIN, and the poller's notice of it would be lost.)
func (c *frontConn) finish(keep bool) error {
	if keep {
		_ = c.nc.SetReadDeadline(time.Now().Add(clientIdleTimeout))
	}
	_, err := c.nc.Write(c.out.Bytes())
	if keep {
		c.state.Store(frontIdle)
	}
	return err
}

// connectionValue is the Connection field of a response to in: "close"
// when the connection ends after it, "keep-alive" when it stays open for
// an HTTP/1.0 client (which closes unless told), else none.
func connectionValue(in *http.Request, keep bool) string {
	switch {
	case !keep:
		return "close"
	case in.ProtoMinor == 0:
		return "keep-alive"
	}
	return ""
}

// statusLineProto is the version a response to in starts with: the
// client's own (a 1.0 client is answered in 1.0, as net/http does).
func statusLineProto(in *http.Request) string {
	if in.ProtoMinor == 0 {
		return "HTTP/1.0 "
	}
	return "HTTP/1.1 "
}

// sendError answers a request no worker answered, as http.Error would.
func (c *frontConn) sendError(in *http.Request, code int, text string, keep bool) error {
	b := &c.out
	b.Reset()
	b.WriteString(statusLineProto(in) + strconv.Itoa(code) + " " + http.StatusText(code) + "\r\n")
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n")
	if code == http.StatusServiceUnavailable {
		b.WriteString("Retry-After: 1\r\n")
	}
	if v := connectionValue(in, keep); v != "" {
		b.WriteString("Connection: " + v + "\r\n")
	}
	b.WriteString("Date: " + time.Now().UTC().Format(http.TimeFormat) + "\r\n")
	b.WriteString("Content-Length: " + strconv.Itoa(len(text)) + "\r\n\r\n" + text)
	return c.finish(keep)
}

// badRequest answers what is not an HTTP request, and the connection
// ends.
func (c *frontConn) badRequest() {
	_, _ = io.WriteString(c.nc, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request")
}

// requestWatch cancels a request whose client went away while it waited
// for its response (as clientWatch does for a tcp connection waiting for
// a worker); it starts only for a request that takes watchAfter.
type requestWatch struct {
	c       *frontConn
	timer   *time.Timer
	mu      sync.Mutex
	stopped bool
	done    chan struct{} // set once the watch started
	gone    atomic.Bool
}

func (c *frontConn) watchRequest(cancel context.CancelFunc) *requestWatch {
	w := &requestWatch{c: c}
	w.timer = time.AfterFunc(watchAfter, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.stopped {
			return
		}
		_ = c.nc.SetReadDeadline(time.Time{}) // a long poll outlives the head's deadline
		w.done = make(chan struct{})
		go w.run(cancel)
	})
	return w
}

// run parks on the client connection until the client resets it (the
// request is cancelled), or stop sets a deadline; what the client sends
// meanwhile (a pipelined request) stays unread. A client that only ended
// its sending (a half-close right after its request, as `nc -N` does)
// still gets its answer, as with HAProxy's default: the kernel cannot
// tell it from a client that closed, until the answer is written.
func (w *requestWatch) run(cancel context.CancelFunc) {
	defer close(w.done)
	_ = w.c.raw.Read(func(fd uintptr) bool {
		if peerReset(int(fd)) {
			w.gone.Store(true)
			cancel()
			return true
		}
		return false
	})
}

// stop ends the watch before the response is written; the connection's
// read deadline is then in the past until the caller sets one.
func (w *requestWatch) stop() {
	w.timer.Stop()
	w.mu.Lock()
	w.stopped = true
	done := w.done
	w.mu.Unlock()
	if done != nil {
		_ = w.c.nc.SetReadDeadline(time.Unix(1, 0))
		<-done
	}
}

// track adds c to the connections a drain waits for; false once the
// proxy is closed.
func (h *HTTP) track(c *frontConn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns[c] = struct{}{}
	return true
}

func (h *HTTP) untrack(c *frontConn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
}

// closeIdleFront closes the front's idle client connections (a request
// that arrives on one just now is cut, as with net/http's Shutdown).
func (h *HTTP) closeIdleFront() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		if c.state.CompareAndSwap(frontIdle, frontClosing) {
			_ = c.nc.SetReadDeadline(time.Unix(1, 0)) // its goroutine sees the drain and closes it
		}
	}
}

// handOver gives nc to the net/http server, which reads pending first.
func (h *HTTP) handOver(nc net.Conn, pending []byte) {
	_ = nc.SetReadDeadline(time.Time{})
	if !h.handoff.give(&prefixConn{Conn: nc, prefix: pending}) {
		nc.Close()
	}
}

// prefixConn is a client connection that the front read from: what it
// read comes first.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.prefix) > 0 {
		n := copy(b, p.prefix)
		p.prefix = p.prefix[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

// CloseWrite lets the net/http server half-close as on a plain TCP
// connection.
func (p *prefixConn) CloseWrite() error {
	if cw, ok := p.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return p.Conn.Close()
}

// handoffListener is the net/http server's listener: the connections the
// front hands over.
type handoffListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newHandoffListener() *handoffListener {
	return &handoffListener{addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *handoffListener) give(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }
