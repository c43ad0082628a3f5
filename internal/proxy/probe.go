package proxy

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/batonhq/baton/internal/config"
)

// Probe intervals: the first probes come quickly (most servers listen
// within milliseconds), later ones less often.
const (
	probeFirst = 10 * time.Millisecond
	probeMax   = 200 * time.Millisecond
	probeWait  = 2 * time.Second // bounds one probe
)

// probeOptions say what a readiness probe checks.
type probeOptions struct {
	Ready config.Readiness // tcp: a connect succeeds; http: a GET of Ready.Path answers 2xx
	Addr  *loopback        // the worker's private address
	// Header is sent first on each probe connection (a PROXY protocol
	// header, see localHeader); nil for nothing.
	Header []byte
	// Failed, when not nil, is told each failure as it happens.
	Failed func(error)
}

// probe checks, until it passes or ctx ends, that the worker is ready,
// and reports whether it passed.
func probe(ctx context.Context, o probeOptions) bool {
	check := func() error { return probeTCP(ctx, o.Addr, o.Header) }
	if o.Ready.Kind == config.ReadyHTTP {
		client := probeClient(probeWait, o.Addr, o.Header)
		check = func() error { return probeHTTP(ctx, client, "http://"+o.Addr.String()+o.Ready.Path) }
	}
	wait := probeFirst
	for {
		err := check()
		if err == nil {
			return true
		}
		if ctx.Err() == nil && o.Failed != nil {
			o.Failed(err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		wait = min(wait*2, probeMax)
	}
}

// probeTCP connects to addr, sends header, and closes.
func probeTCP(ctx context.Context, addr *loopback, header []byte) error {
	c, err := probeDial(ctx, addr, header)
	if err != nil {
		return err
	}
	return c.Close()
}

// probeDial connects to addr for a probe and sends header first.
func probeDial(ctx context.Context, addr *loopback, header []byte) (net.Conn, error) {
	d := net.Dialer{Timeout: probeWait}
	c, err := addr.dial(ctx, &d)
	if err != nil || len(header) == 0 {
		return c, err
	}
	if _, err := c.Write(header); err != nil {
		c.Close()
		return nil, fmt.Errorf("send the PROXY protocol header to %s: %w", addr, err)
	}
	return c, nil
}

// probeClient is an HTTP client for probes of the worker at addr: a new
// connection each time, header sent first on it, each request bounded by
// timeout.
func probeClient(timeout time.Duration, addr *loopback, header []byte) *http.Client {
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) { return probeDial(ctx, addr, header) }
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true, DialContext: dial},
		// A redirect is an answer, not a pass: a probe never leaves the
		// worker's own port.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func probeHTTP(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "baton-ready-probe")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("GET %s answered %d, not 2xx", url, resp.StatusCode)
	}
	return nil
}
