package proc

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/batonhq/baton/internal/logs"
)

// outputPipes are a worker's stdout and stderr pipes: the master reads r,
// the worker writes w.
type outputPipes struct {
	r, w      [2]*os.File
	closeOnce sync.Once
}

func newOutputPipes() (*outputPipes, error) {
	p := &outputPipes{}
	for i, name := range []string{"stdout", "stderr"} {
		r, w, err := os.Pipe()
		if err != nil {
			p.closeReaders()
			p.closeWriters()
			return nil, fmt.Errorf("%s pipe: %w", name, err)
		}
		p.r[i], p.w[i] = r, w
	}
	return p, nil
}

// closeWriters closes the master's copies of the write ends, once the
// worker has them.
func (p *outputPipes) closeWriters() {
	for _, f := range p.w {
		if f != nil {
			f.Close()
		}
	}
}

// closeReaders closes the read ends, which ends the capture goroutines.
func (p *outputPipes) closeReaders() {
	p.closeOnce.Do(func() {
		for _, f := range p.r {
			if f != nil {
				f.Close()
			}
		}
	})
}

// capture copies both streams to the sink and tail, showing each line to
// match (may be nil); the returned channel closes when both have ended.
func (p *outputPipes) capture(sink *logs.Sink, o logs.Origin, tail *logs.Tail, match *logs.Match) <-chan struct{} {
	done := make(chan struct{})
	var running atomic.Int32 // the last capture to end closes done
	running.Store(2)
	for i, stream := range []string{"stdout", "stderr"} {
		o.Stream = stream
		go func(r *os.File, o logs.Origin) {
			logs.Capture(r, sink, o, tail, match)
			if running.Add(-1) == 0 {
				close(done)
			}
		}(p.r[i], o)
	}
	return done
}

// holders counts the processes that hold a write end of these pipes.
func (p *outputPipes) holders() int {
	inodes := map[string]bool{}
	for _, f := range p.r {
		if st, ok := fileStat(f); ok {
			inodes["pipe:["+strconv.FormatUint(st.Ino, 10)+"]"] = true
		}
	}
	self := strconv.Itoa(os.Getpid())
	procs, _ := filepath.Glob("/proc/[0-9]*/fd")
	n := 0
	for _, dir := range procs {
		if filepath.Base(filepath.Dir(dir)) == self {
			continue
		}
		if holdsAny(dir, inodes) {
			n++
		}
	}
	return n
}

func holdsAny(fdDir string, links map[string]bool) bool {
	fds, err := os.ReadDir(fdDir)
	if err != nil {
		return false
	}
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join(fdDir, fd.Name())); err == nil && links[l] {
			return true
		}
	}
	return false
}

// fileStat stats f without f.Fd(), which would make it blocking (and a
// blocked Read could then not be interrupted by Close).
func fileStat(f *os.File) (*syscall.Stat_t, bool) {
	if f == nil {
		return nil, false
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return st, ok
}
