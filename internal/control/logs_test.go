package control

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/logs"
	"github.com/batonhq/baton/internal/supervisor"
)

// ringBackend serves one ring; everything else refuses.
type ringBackend struct {
	refusingBackend
	ring *logs.Ring
}

func (b ringBackend) Logs() *logs.Ring { return b.ring }

func serveRing(t *testing.T, ring *logs.Ring) *Client {
	t.Helper()
	return serveBackend(t, ringBackend{ring: ring})
}

// serveBackend answers the control API for b until the test ends.
func serveBackend(t *testing.T, b Backend) *Client {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = Serve(ctx, ln, b, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	t.Cleanup(func() { cancel(); <-done })
	return NewClient(path)
}

func TestLogsLastAndFollow(t *testing.T) {
	ring := logs.NewRing(100)
	for i, text := range []string{"a0", "b1", "a2", "b3"} {
		ring.Add(i%2, 100+i%2, "stdout", text)
	}
	cl := serveRing(t, ring)
	var got []string
	one := 1
	if err := cl.Logs(context.Background(), LogsQuery{Lines: 5, Slot: &one}, func(e logs.Entry) { got = append(got, e.Text) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "b1" || got[1] != "b3" {
		t.Fatalf("worker 1's lines: %q", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lines := make(chan string, 10)
	go func() { _ = cl.Logs(ctx, LogsQuery{Lines: 1, Follow: true}, func(e logs.Entry) { lines <- e.Text }) }()
	if first := <-lines; first != "b3" {
		t.Fatalf("first followed line %q, want the last kept one", first)
	}
	ring.Add(0, 100, "stderr", "after")
	select {
	case l := <-lines:
		if l != "after" {
			t.Fatalf("followed %q", l)
		}
	case <-ctx.Done():
		t.Fatal("a line added after the follow began never came")
	}
}

// twoSlotBackend runs slots 0 and 1.
type twoSlotBackend struct{ ringBackend }

func (twoSlotBackend) Status(context.Context) (supervisor.Status, error) {
	return supervisor.Status{Desired: 2}, nil
}

// TestLogsOfASlotTheMasterDoesNotRunIsAnError: `baton logs --worker 99`
// on a master of 2 workers would print nothing (or, with -f, wait
// forever); it is refused with a line saying which slots there are,
// unless lines of that slot were kept (a slot from before a scale down).
func TestLogsOfASlotTheMasterDoesNotRunIsAnError(t *testing.T) {
	ring := logs.NewRing(100)
	ring.Add(7, 107, "stdout", "from before a scale down")
	cl := serveBackend(t, twoSlotBackend{ringBackend{ring: ring}})
	for _, c := range []struct {
		slot   int
		follow bool
		want   string // "" for no error
	}{
		{1, false, ""},
		{7, false, ""},
		{99, false, "no slot 99: this master runs slots 0 to 1"},
		{2, true, "no slot 2: this master runs slots 0 to 1"},
	} {
		slot := c.slot
		qctx, qcancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := cl.Logs(qctx, LogsQuery{Lines: 5, Slot: &slot, Follow: c.follow}, func(logs.Entry) {})
		qcancel()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("slot %d: %v", c.slot, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("slot %d: %v, want an error saying %q", c.slot, err, c.want)
		}
	}
}
