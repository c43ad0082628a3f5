package e2etest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/loadtest"
)

// HelloReply is the example server's JSON answer.
type HelloReply struct {
	PID        int    `json:"pid"`
	Slot       string `json:"slot"`
	Generation string `json:"generation"`
	Dir        string `json:"dir"`
	Version    string `json:"version"`
}

// AnswerCounter counts the example server's answers per worker pid.
type AnswerCounter struct {
	mu   sync.Mutex
	pids map[int]int
}

// NewAnswerCounter is an AnswerCounter with nothing counted.
func NewAnswerCounter() *AnswerCounter { return &AnswerCounter{pids: map[int]int{}} }

// OnResponse counts one answer (a loadtest.Options.OnResponse); a body
// that is not a HelloReply counts for nothing.
func (c *AnswerCounter) OnResponse(_ int, body []byte) {
	var r HelloReply
	if json.Unmarshal(body, &r) != nil {
		return
	}
	c.mu.Lock()
	c.pids[r.PID]++
	c.mu.Unlock()
}

// DistinctPIDs is how many workers answered.
func (c *AnswerCounter) DistinctPIDs() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pids)
}

// Total counts every answer.
func (c *AnswerCounter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, k := range c.pids {
		n += k
	}
	return n
}

// PerPID is a copy of the answers counted per pid.
func (c *AnswerCounter) PerPID() map[int]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.pids)
}

// Load is a never-retrying keep-alive load (FIELD-NOTES §2) that runs
// until Stop is called; Answers counts the example server's answers.
type Load struct {
	cancel  context.CancelFunc
	done    chan loadtest.Result
	Answers *AnswerCounter
}

// StartLoad sends GET path to addr over conns keep-alive connections and
// counts the answers in l.Answers.
func StartLoad(t *testing.T, addr, path string, conns int) *Load {
	t.Helper()
	answers := NewAnswerCounter()
	return startLoad(t, loadtest.Options{Addr: addr, Path: path, Conns: conns, OnResponse: answers.OnResponse}, answers)
}

// StartLoadWith runs loadtest.Run with opts as they are until Stop is
// called; l.Answers counts nothing (bodies are not kept).
func StartLoadWith(t *testing.T, opts loadtest.Options) *Load {
	t.Helper()
	return startLoad(t, opts, NewAnswerCounter())
}

func startLoad(t *testing.T, opts loadtest.Options, answers *AnswerCounter) *Load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &Load{cancel: cancel, done: make(chan loadtest.Result, 1), Answers: answers}
	go func() {
		res, err := loadtest.Run(ctx, opts)
		if err != nil {
			t.Errorf("load: %v", err)
		}
		l.done <- res
	}()
	return l
}

// Stop ends the load and fails the test if any request failed, or if none
// succeeded (the load did not run).
func (l *Load) Stop(t *testing.T) loadtest.Result {
	t.Helper()
	l.cancel()
	res := <-l.done
	t.Logf("load: %s", res)
	if res.Failed != 0 {
		t.Errorf("%d requests failed: %v %v", res.Failed, res.Errors, res.FirstErrors)
	}
	if res.OK == 0 {
		t.Error("no request succeeded: the load did not run")
	}
	return res
}

// OneShotGet sends one GET /?sleep=2ms on a fresh connection (closed
// after it) and returns the body.
func OneShotGet(addr string) ([]byte, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("GET /?sleep=2ms HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
