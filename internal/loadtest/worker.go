package loadtest

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// worker drives one connection at a time, one request at a time.
type worker struct {
	id   int
	r    *runner
	conn net.Conn      // nil when there is no usable connection
	br   *bufio.Reader // reads conn; reset on every dial
	req  *http.Request // tells http.ReadResponse the method (HEAD has no body)
	st   stats
}

func newWorker(id int, r *runner) *worker {
	return &worker{id: id, r: r, req: &http.Request{Method: r.opts.Method}}
}

// stepError is a failed request: the step that failed and why.
type stepError struct {
	op  string // opDial, opWrite or opRead
	err error
}

func (w *worker) run() {
	defer w.closeConn()
	for w.r.next() {
		w.do()
	}
}

// do sends one request and records its outcome. It never re-sends.
func (w *worker) do() {
	w.st.sent++
	start := time.Now()
	resp, body, serr := w.roundTrip(start.Add(w.r.opts.RequestTimeout))
	took := time.Since(start)
	if cb := w.r.opts.OnOutcome; cb != nil {
		defer func() { cb(start, took, serr == nil && resp.StatusCode >= 200 && resp.StatusCode <= 299) }()
	}
	if serr != nil {
		w.closeConn()
		w.fail(classify(serr.op, serr.err), serr.err.Error())
		return
	}
	if resp.Close || resp.StatusCode == http.StatusSwitchingProtocols {
		w.closeConn()
	}
	if cb := w.r.opts.OnResponse; cb != nil {
		cb(resp.StatusCode, body)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		w.st.non2xx++
		w.fail("status "+strconv.Itoa(resp.StatusCode), "status "+resp.Status)
		return
	}
	w.st.ok++
	w.st.lat.record(took)
}

func (w *worker) fail(class, msg string) {
	w.st.fail(failure{at: time.Since(w.r.start), worker: w.id, class: class, msg: msg})
}

// roundTrip gets a connection, writes the request and reads the complete
// response, all before deadline.
func (w *worker) roundTrip(deadline time.Time) (*http.Response, []byte, *stepError) {
	if err := w.connect(deadline); err != nil {
		return nil, nil, &stepError{opDial, err}
	}
	if _, err := w.conn.Write(w.r.req); err != nil {
		return nil, nil, &stepError{opWrite, err}
	}
	resp, err := w.readResponse()
	if err != nil {
		return nil, nil, &stepError{opRead, err}
	}
	body, err := w.readBody(resp)
	if err != nil {
		return nil, nil, &stepError{opRead, err}
	}
	return resp, body, nil
}

// connect makes sure w.conn is a usable connection with the deadline
// set. A kept-alive connection that the server has closed (or sent stray
// bytes on) since its last complete response is replaced by a fresh one
// before anything is written: that is a reconnect, not a retry.
func (w *worker) connect(deadline time.Time) error {
	if w.conn != nil {
		// Set first: an expired deadline would make the peek fail.
		err := w.conn.SetDeadline(deadline)
		if err != nil || w.br.Buffered() > 0 || !idleConnOK(w.conn) {
			w.closeConn()
		}
	}
	if w.conn != nil {
		return nil
	}
	d := net.Dialer{Deadline: deadline}
	c, err := d.Dial(w.r.opts.Network, w.r.opts.Addr)
	if err != nil {
		return err
	}
	if err := c.SetDeadline(deadline); err != nil {
		c.Close()
		return err
	}
	w.st.dials++
	w.conn = c
	if w.br == nil {
		w.br = bufio.NewReader(c)
	} else {
		w.br.Reset(c)
	}
	return nil
}

// readResponse reads the final response, skipping informational (1xx)
// ones other than 101 Switching Protocols. A connection closed before
// any byte of a response is io.EOF ("read: EOF", the keep-alive race);
// one closed part way through is io.ErrUnexpectedEOF.
func (w *worker) readResponse() (*http.Response, error) {
	if _, err := w.br.Peek(1); err != nil {
		return nil, err
	}
	for {
		resp, err := http.ReadResponse(w.br, w.req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, nil
		}
	}
}

// readBody reads the body to its end: into a fresh slice when OnResponse
// wants it, into the void otherwise.
func (w *worker) readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	if w.r.opts.OnResponse == nil {
		_, err := io.Copy(io.Discard, resp.Body)
		return nil, err
	}
	return io.ReadAll(resp.Body)
}

func (w *worker) closeConn() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}
