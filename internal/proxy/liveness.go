package proxy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/proc"
	"github.com/batonhq/baton/internal/wire"
)

// Liveness probes stand in for WATCHDOG=1 in proxy mode when the worker
// has no notify socket (--ready tcp, http:PATH, output:, delay:): every
// third of --watchdog, a probe of its private port with a timeout of a
// third of --watchdog; each pass is reported to the supervisor as a
// WATCHDOG=1, whose clock replaces the worker after --watchdog without
// one (so three probes in a row must fail).
//
// What a probe proves depends on the proxy:
//   - --proxy http: a GET of the http:PATH readiness path, else of "/",
//     is answered: any status counts, as a 500 is an answer too. A stopped
//     or deadlocked server answers nothing.
//   - --proxy tcp: baton cannot speak the worker's protocol. A connect
//     alone proves nothing (the kernel completes the handshake into the
//     accept queue of a stopped process), so the probe also reads the
//     worker's state in /proc: it fails when the connect fails or when
//     the main process is stopped (SIGSTOP, a debugger). A worker that
//     deadlocks while running is not detected: for that, have it send
//     WATCHDOG=1 with --ready notify.
const livenessShare = 3

// liveness probes the worker until it leaves the rotation or exits.
func (p *process) liveness() {
	every := p.spec.Watchdog / livenessShare
	client := probeClient(every, p.b.addr, localHeader(p.l.ProxyProtocol))
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(p.ctx, every)
		err := p.alive(ctx, client)
		cancel()
		if p.ctx.Err() != nil {
			return
		}
		if err == nil {
			p.onNotify(wire.Notify{Watchdog: true})
		} else {
			p.l.Log.Debug("proxy: liveness probe failed", "slot", p.b.Slot, "pid", p.PID(), "err", err)
		}
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// alive runs one liveness probe.
func (p *process) alive(ctx context.Context, client *http.Client) error {
	if p.l.Kind == config.ProxyHTTP {
		path := "/"
		if p.spec.Ready.Kind == config.ReadyHTTP {
			path = p.spec.Ready.Path
		}
		return answers(ctx, client, "http://"+p.b.Addr()+path)
	}
	if err := probeTCP(ctx, p.b.addr, localHeader(p.l.ProxyProtocol)); err != nil {
		return err
	}
	if stopped, err := proc.Stopped(p.PID()); err == nil && stopped {
		return fmt.Errorf("pid %d is stopped", p.PID())
	}
	return nil
}

// answers checks that a GET of url gets an HTTP response, of any status.
func answers(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "baton-liveness-probe")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.Body.Close()
}
