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

	"github.com/batonhq/baton/internal/supervisor"
)

// Client talks to one master's control socket.
type Client struct {
	Path string
	http *http.Client
}

// NewClient returns a client for the socket at path.
func NewClient(path string) *Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	return &Client{Path: path, http: &http.Client{Transport: tr}}
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

// Scale asks for n workers.
func (c *Client) Scale(ctx context.Context, n int) error {
	resp, err := c.do(ctx, http.MethodPost, "/v1/scale", url.Values{"workers": {strconv.Itoa(n)}})
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// Reload runs a rollout, calling onProgress for each step as it streams in.
func (c *Client) Reload(ctx context.Context, strategy string, onProgress func(supervisor.Progress)) (supervisor.RolloutStatus, error) {
	q := url.Values{}
	if strategy != "" {
		q.Set("strategy", strategy)
	}
	resp, err := c.do(ctx, http.MethodPost, "/v1/reload", q)
	if err != nil {
		return supervisor.RolloutStatus{}, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return supervisor.RolloutStatus{}, fmt.Errorf("decode reload stream: %w", err)
		}
		switch {
		case l.Type == "progress" && l.Progress != nil && onProgress != nil:
			onProgress(*l.Progress)
		case l.Type == "result" && l.Result != nil:
			return *l.Result, nil
		case l.Type == "error":
			return supervisor.RolloutStatus{}, errors.New(l.Error)
		}
	}
	if err := sc.Err(); err != nil {
		return supervisor.RolloutStatus{}, fmt.Errorf("read reload stream: %w", err)
	}
	return supervisor.RolloutStatus{}, errors.New("the master closed the reload stream without a result")
}
