package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/batonhq/baton/internal/logs"
)

// LogsQuery selects the lines of GET /v1/logs.
type LogsQuery struct {
	Lines  int  // the newest N kept lines first
	Slot   *int // one worker's slot only; nil: every worker and the master
	Follow bool // then every new line, until the client goes away
}

func (q LogsQuery) values() url.Values {
	v := url.Values{"n": {strconv.Itoa(q.Lines)}}
	if q.Slot != nil {
		v.Set("worker", strconv.Itoa(*q.Slot))
	}
	if q.Follow {
		v.Set("follow", "1")
	}
	return v
}

func parseLogsQuery(v url.Values) (LogsQuery, error) {
	q := LogsQuery{Lines: 20, Follow: v.Get("follow") == "1"}
	if s := v.Get("n"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return q, fmt.Errorf("n: %q is not a line count: want 0 or more", s)
		}
		q.Lines = n
	}
	if s := v.Get("worker"); s != "" {
		slot, err := strconv.Atoi(s)
		if err != nil || slot < 0 {
			return q, fmt.Errorf("worker: %q is not a slot: want 0 or more", s)
		}
		q.Slot = &slot
	}
	return q, nil
}

// serveLogs streams kept lines, then (following) new ones, as NDJSON
// logs.Entry values.
func serveLogs(w http.ResponseWriter, r *http.Request, b Backend) {
	q, err := parseLogsQuery(r.URL.Query())
	if err != nil {
		writeJSON(w, http.StatusBadRequest, ErrorBody{Error: err.Error()})
		return
	}
	ring := b.Logs()
	filter := logs.Filter{Slot: q.Slot}
	if err := slotKnown(r.Context(), b, ring, filter); err != nil {
		writeJSON(w, http.StatusNotFound, ErrorBody{Error: err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	if !q.Follow {
		for _, e := range ring.Last(q.Lines, filter) {
			_ = enc.Encode(e)
		}
		return
	}
	past, f := ring.Follow(q.Lines, filter)
	defer f.Close()
	for _, e := range past {
		_ = enc.Encode(e)
	}
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	for {
		select {
		case e := <-f.C:
			if enc.Encode(e) != nil {
				return
			}
			for len(f.C) > 0 {
				_ = enc.Encode(<-f.C)
			}
			if rc.Flush() != nil {
				return
			}
		case <-r.Context().Done():
			return
		}
	}
}

// slotKnown refuses a slot the master does not run and kept no line of
// (a slot from before a scale down still has its lines): such a query
// would print nothing, or follow forever.
func slotKnown(ctx context.Context, b Backend, ring *logs.Ring, filter logs.Filter) error {
	if filter.Slot == nil || len(ring.Last(1, filter)) > 0 {
		return nil // a slot with kept lines: no need to ask the master (its status reads /proc for every worker)
	}
	st, err := b.Status(ctx)
	if err != nil || *filter.Slot < st.Desired {
		return nil
	}
	return fmt.Errorf("worker: no slot %d: this master runs slots 0 to %d and kept no line of slot %d", *filter.Slot, st.Desired-1, *filter.Slot)
}

// Logs reads the master's recent output, calling onEntry for each line;
// with q.Follow it returns only when ctx ends or the master goes away.
func (c *Client) Logs(ctx context.Context, q LogsQuery, onEntry func(logs.Entry)) error {
	resp, err := c.do(ctx, http.MethodGet, "/v1/logs", q.values())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var e logs.Entry
		if err := dec.Decode(&e); err != nil {
			if ctx.Err() != nil || errors.Is(err, io.EOF) || (q.Follow && errors.Is(err, io.ErrUnexpectedEOF)) {
				return nil
			}
			return fmt.Errorf("read logs stream: %w", err)
		}
		onEntry(e)
	}
}
