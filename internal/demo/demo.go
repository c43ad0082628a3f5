package demo

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/batonhq/baton/internal/loadtest"
)

// Options are what a demo runs with.
type Options struct {
	Exe      string        // this baton binary (the master and the workers)
	Workers  int           // default 4
	Port     int           // loopback port; 0 picks a free one
	Duration time.Duration // of the load; default 30s
	Conns    int           // keep-alive connections; default 32 (plus 4 with slow requests)
	Out      io.Writer
	Live     bool // redraw one live line (a terminal); else plain lines
}

// Report is what the demo measured.
type Report struct {
	OK, Failed         int
	LostInCrash        int // failed while the worker killed with SIGKILL died (in flight on it)
	P50, P99, Max      time.Duration
	Events             []Event
	Timeline           []point
	Duration           time.Duration
	Workers            int
	FailedByClass      map[string]int64
	MasterLog          string // the master's output, kept when something failed
	EventsOK, Promised bool   // every event did what it should; and no request failed
}

// Run runs the demo and reports; the error is for a demo that could not run.
func Run(ctx context.Context, o Options) (Report, error) {
	o = o.withDefaults()
	dir, err := os.MkdirTemp("", "baton-demo-")
	if err != nil {
		return Report{}, fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(dir)
	if o.Port == 0 {
		if o.Port, err = freePort(); err != nil {
			return Report{}, err
		}
	}
	fmt.Fprintf(o.Out, "baton demo: %d workers of the example server on 127.0.0.1:%d (and %d with no signal handler behind --proxy http), %s of keep-alive load from %d+4+8 connections, a client that never retries\n",
		o.Workers, o.Port, proxyWorkers, o.Duration, o.Conns)
	m, err := startMaster(ctx, o, dir)
	if err != nil {
		return Report{}, err
	}
	defer m.stop()
	pport, err := freePort()
	if err != nil {
		return Report{}, err
	}
	px, err := startProxyMaster(ctx, o, dir, pport)
	if err != nil {
		return Report{}, err
	}
	defer px.stop()
	rep := drive(ctx, o, m, px)
	if !rep.Promised {
		for _, l := range []*os.File{m.log, px.log} {
			b, _ := os.ReadFile(l.Name())
			rep.MasterLog += string(b)
		}
	}
	return rep, nil
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Duration <= 0 {
		o.Duration = 30 * time.Second
	}
	if o.Conns <= 0 {
		o.Conns = 32
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	return o
}

// drive runs the load and the scripted events, with the live line.
func drive(ctx context.Context, o Options, m, px *master) Report {
	start := time.Now()
	tl := newTimeline(start)
	lctx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup
	results := make([]loadtest.Result, 3)
	for i, l := range []struct {
		addr, path string
		conns      int
	}{{m.addr, "/", o.Conns}, {m.addr, "/?sleep=100ms", 4}, {px.addr, "/", 8}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = loadtest.Run(lctx, loadtest.Options{Addr: l.addr, Path: l.path, Conns: l.conns, OnOutcome: tl.record})
		}()
	}
	live := newLiveLine(o, tl, start)
	steps := script(px)
	events := runScript(ctx, o, m, steps, live, start)
	// The load runs for --duration, and at least a second past the last
	// event, so that each one is seen under load to its end.
	sleepUntil(ctx, start.Add(o.Duration))
	stopLoad()
	wg.Wait()
	live.stop()
	rep := report(o, tl, events, len(steps), results, time.Since(start))
	rep.LostInCrash = tl.failedDuring(m.kills)
	rep.Promised = rep.EventsOK && rep.OK > 0 && rep.Failed == rep.LostInCrash
	return rep
}

// runScript runs every step at its time, announcing each.
func runScript(ctx context.Context, o Options, m *master, steps []step, live *liveLine, start time.Time) []Event {
	var out []Event
	for _, s := range steps {
		at := time.Duration(s.at * float64(o.Duration))
		if !sleepUntil(ctx, start.Add(at)) {
			break
		}
		live.setEvent(s.name)
		began := time.Now()
		ok, detail := s.do(ctx, m, o.Workers)
		e := Event{Name: s.name, At: began.Sub(start), Took: time.Since(began), OK: ok, Detail: detail}
		out = append(out, e)
		live.announce(e)
	}
	sleepUntil(ctx, time.Now().Add(time.Second))
	return out
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func report(o Options, tl *timeline, events []Event, want int, results []loadtest.Result, took time.Duration) Report {
	r := Report{Events: events, Timeline: tl.points(), Duration: took, Workers: o.Workers, FailedByClass: map[string]int64{}}
	r.OK, r.Failed, r.P50, r.P99, r.Max = tl.totals()
	for _, res := range results {
		for class, n := range res.Errors {
			r.FailedByClass[class] += n
		}
	}
	r.EventsOK = len(events) == want
	for _, e := range events {
		r.EventsOK = r.EventsOK && e.OK
	}
	return r
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("demo: find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// liveLine shows requests/s, failures, p99, the generation of each slot
// and the current event: redrawn in place on a terminal, else a plain
// line every few seconds. Events are announced on lines of their own.
type liveLine struct {
	o     Options
	tl    *timeline
	start time.Time
	mu    sync.Mutex
	event string
	done  chan struct{}
	wg    sync.WaitGroup
}

func newLiveLine(o Options, tl *timeline, start time.Time) *liveLine {
	l := &liveLine{o: o, tl: tl, start: start, done: make(chan struct{})}
	l.wg.Add(1)
	go l.run()
	return l
}

func (l *liveLine) run() {
	defer l.wg.Done()
	every := time.Second
	if !l.o.Live {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
			l.draw()
		}
	}
}

func (l *liveLine) draw() {
	pts := l.tl.points()
	if len(pts) < 2 {
		return
	}
	last := pts[len(pts)-2] // the last whole second
	failed := 0
	for _, p := range pts {
		failed += p.Failed
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	line := fmt.Sprintf("%5s  %6d req/s  failed %d  p99 %-8s  %s", time.Since(l.start).Round(time.Second), last.RPS, failed, last.P99.Round(10*time.Microsecond), orIdle(l.event))
	if l.o.Live {
		fmt.Fprintf(l.o.Out, "\r\x1b[K%s", line)
		return
	}
	fmt.Fprintln(l.o.Out, line)
}

func orIdle(s string) string {
	if s == "" {
		return "steady load"
	}
	return s
}

func (l *liveLine) setEvent(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.event = name + "..."
}

// announce prints an event as it ends.
func (l *liveLine) announce(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.event = ""
	mark := "ok  "
	if !e.OK {
		mark = "FAIL"
	}
	prefix := ""
	if l.o.Live {
		prefix = "\r\x1b[K"
	}
	fmt.Fprintf(l.o.Out, "%s%s  at %5s  %-42s %8s  %s\n", prefix, mark, e.At.Round(100*time.Millisecond), e.Name, e.Took.Round(time.Millisecond), strings.TrimSpace(e.Detail))
}

func (l *liveLine) stop() {
	close(l.done)
	l.wg.Wait()
	if l.o.Live {
		fmt.Fprint(l.o.Out, "\r\x1b[K")
	}
}
