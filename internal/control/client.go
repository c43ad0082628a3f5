package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/batonhq/baton/internal/supervisor"
)

// DefaultAnswerTimeout bounds how long a client waits for the master to
// start answering a request; a master that is stopped (SIGSTOP) or hung
// accepts the connection but never answers.
const DefaultAnswerTimeout = 10 * time.Second

// ErrNoAnswer means the master accepted the connection but did not answer.
var ErrNoAnswer = errors.New("the master did not answer")

// Client talks to one master's control socket.
type Client struct {
	Path    string
	timeout time.Duration
	http    *http.Client
}

// NewClient returns a client for the socket at path that waits up to
// DefaultAnswerTimeout for each answer to begin.
func NewClient(path string) *Client { return NewClientTimeout(path, DefaultAnswerTimeout) }

// NewClientTimeout is NewClient with another answer timeout.
func NewClientTimeout(path string, timeout time.Duration) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		ResponseHeaderTimeout: timeout,
		// A connection per request: after a master upgrade, a kept-alive
		// connection would still lead to the old master.
		DisableKeepAlives: true,
	}
	return &Client{Path: path, timeout: timeout, http: &http.Client{Transport: tr}}
}

// APIError is an error answer from the master.
type APIError struct {
	Status int
	ErrorBody
}

func (e *APIError) Error() string { return e.ErrorBody.Error }

// IsRefused reports whether err is a refusal (nothing changed).
func IsRefused(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Refused
}

// IsGone reports whether err means no master listens at the socket.
func IsGone(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED)
}

func (c *Client) do(ctx context.Context, method, path string, q url.Values) (*http.Response, error) {
	u := "http://baton" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
			return nil, fmt.Errorf("%w at %s within %s (is it stopped with SIGSTOP, or hung?)", ErrNoAnswer, c.Path, c.timeout)
		}
		return nil, fmt.Errorf("talk to master at %s: %w", c.Path, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		ae := &APIError{Status: resp.StatusCode}
		body, _ := io.ReadAll(resp.Body)
		if json.Unmarshal(body, &ae.ErrorBody) != nil || ae.ErrorBody.Error == "" {
			ae.ErrorBody.Error = fmt.Sprintf("master answered %s", resp.Status)
		}
		return nil, ae
	}
	return resp, nil
}

// Status fetches the master's status.
func (c *Client) Status(ctx context.Context) (supervisor.Status, error) {
	var st supervisor.Status
	resp, err := c.do(ctx, http.MethodGet, "/v1/status", nil)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("decode status: %w", err)
	}
	return st, nil
}

// Stop asks the master to stop.
func (c *Client) Stop(ctx context.Context, force bool) error {
	q := url.Values{}
	if force {
		q.Set("force", "1")
	}
	resp, err := c.do(ctx, http.MethodPost, "/v1/stop", q)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// Wait returns once the master has exited: its control connection closed
// and nothing answers on its socket any more. It fails when ctx ends first.
func (c *Client) Wait(ctx context.Context) error {
	resp, err := c.do(ctx, http.MethodGet, "/v1/wait", nil)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body) // returns when the master closes the connection
		resp.Body.Close()
	}
	if ctx.Err() != nil {
		return fmt.Errorf("wait for the master to exit: %w", ctx.Err())
	}
	var ae *APIError
	if errors.As(err, &ae) || errors.Is(err, ErrNoAnswer) {
		return err
	}
	for {
		conn, derr := (&net.Dialer{}).DialContext(ctx, "unix", c.Path)
		if derr != nil {
			if IsGone(derr) {
				return nil
			}
			return fmt.Errorf("wait for the master to exit: %w", derr)
		}
		conn.Close() // still accepting: it is closing down; look again
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the master to exit: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Scale asks for n workers.
func (c *Client) Scale(ctx context.Context, n int) error {
	resp, err := c.do(ctx, http.MethodPost, "/v1/scale", url.Values{"workers": {strconv.Itoa(n)}})
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// Reload runs a rollout, calling onEvent for each of its steps as they
// stream in, and returns its outcome.
func (c *Client) Reload(ctx context.Context, strategy string, onEvent func(supervisor.Event)) (supervisor.RolloutStatus, error) {
	q := url.Values{}
	if strategy != "" {
		q.Set("strategy", strategy)
	}
	resp, err := c.do(ctx, http.MethodPost, "/v1/reload", q)
	if err != nil {
		return supervisor.RolloutStatus{}, err
	}
	defer resp.Body.Close()
	var st *supervisor.RolloutStatus
	err = readLines(resp.Body, "reload", func(l Line) bool {
		switch {
		case l.Type == "event" && l.Event != nil && onEvent != nil:
			onEvent(*l.Event)
		case l.Type == "result" && l.Result != nil:
			st = l.Result
		}
		return st == nil
	})
	if err != nil {
		return supervisor.RolloutStatus{}, err
	}
	if st == nil {
		return supervisor.RolloutStatus{}, errors.New("the master closed the reload stream without a result (did it stop?)")
	}
	return *st, nil
}

// readLines decodes an NDJSON stream of Lines (what names it in errors),
// calling more for each until it returns false or the stream ends.
func readLines(body io.Reader, what string, more func(Line) bool) error {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("decode %s stream: %w", what, err)
		}
		if !more(l) {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s stream: %w", what, err)
	}
	return nil
}

// Upgrade replaces the master, calling onNote for each progress line, and
// returns the report.
func (c *Client) Upgrade(ctx context.Context, onNote func(string)) (UpgradeReport, error) {
	resp, err := c.do(ctx, http.MethodPost, "/v1/upgrade", nil)
	if err != nil {
		return UpgradeReport{}, err
	}
	defer resp.Body.Close()
	var rep *UpgradeReport
	err = readLines(resp.Body, "upgrade", func(l Line) bool {
		switch {
		case l.Type == "note" && onNote != nil:
			onNote(l.Note)
		case l.Type == "upgrade" && l.Upgrade != nil:
			rep = l.Upgrade
		}
		return rep == nil
	})
	if err != nil {
		return UpgradeReport{}, err
	}
	if rep == nil {
		return UpgradeReport{}, errors.New("the master closed the upgrade stream without a result")
	}
	return *rep, nil
}
