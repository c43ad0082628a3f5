package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/proc"
)

// Server is one master's proxy over its listening sockets.
type Server struct {
	Pool *Pool
	kind config.ProxyKind
	tcp  *TCP
	// kernel is --proxy tcp's rotation in the kernel; nil when off.
	kernel *kernelRotation
	http   *HTTP
	log    *slog.Logger

	mu      sync.Mutex
	lns     []net.Listener
	serving sync.WaitGroup
	stopped bool
}

// Options configure a Server.
type Options struct {
	Kind          config.ProxyKind
	ProxyProtocol int // tcp only: 1 or 2, 0 for none
	// Steer: tcp only, without a PROXY protocol header (which only the
	// master can write): let the kernel hand connections to the workers.
	Steer     bool
	ReadyWait time.Duration // how long a connection or request waits for a ready worker
	Log       *slog.Logger
}

// NewServer returns a proxy with an empty pool; it accepts nothing until Serve.
func NewServer(o Options) *Server {
	s := &Server{Pool: NewPool(o.ReadyWait), kind: o.Kind, log: o.Log}
	if o.Kind == config.ProxyHTTP {
		s.http = NewHTTP(s.Pool, o.Log)
	} else {
		s.tcp = &TCP{Pool: s.Pool, ProxyProtocol: o.ProxyProtocol, Log: o.Log}
		if o.Steer && o.ProxyProtocol == 0 {
			s.kernel = newKernelRotation(o.Log)
		}
	}
	return s
}

// Launcher returns the decorator of inner whose workers this proxy serves.
func (s *Server) Launcher(inner proc.Launcher) *Launcher {
	l := NewLauncher(inner, s.Pool, s.kind, s.log)
	l.kernel = s.kernel
	if s.tcp != nil {
		l.ProxyProtocol = s.tcp.ProxyProtocol
	}
	return l
}

// SteeredWorkers is how many workers the kernel steers to now.
func (s *Server) SteeredWorkers() int {
	if s.kernel == nil {
		return 0
	}
	return s.kernel.steered()
}

// Steering says whether --proxy tcp hands connections over in the kernel
// ("kernel, N of M workers"), or why not ("off: ..."); "" for http.
func (s *Server) Steering() string {
	if s.kernel == nil {
		if s.kind == config.ProxyTCP {
			return "off"
		}
		return ""
	}
	return s.kernel.status()
}

// Kind is tcp or http.
func (s *Server) Kind() config.ProxyKind { return s.kind }

// Serve accepts on each of files (the master's listening sockets, which
// stay open: each listener works on a duplicate).
func (s *Server) Serve(files []*os.File) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	for _, f := range files {
		ln, err := net.FileListener(f)
		if err != nil {
			return fmt.Errorf("proxy: accept on %s: %w", f.Name(), err)
		}
		s.lns = append(s.lns, ln)
		s.serving.Add(1)
		go s.serve(ln)
	}
	if s.kernel != nil {
		s.kernel.start(files)
	}
	return nil
}

func (s *Server) serve(ln net.Listener) {
	defer s.serving.Done()
	var err error
	if s.http != nil {
		err = s.http.Serve(ln)
	} else {
		err = s.tcp.Serve(ln)
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		s.log.Error("proxy: serve", "addr", ln.Addr().String(), "err", err)
	}
}

// StopAccepting closes this master's listeners (not the sockets: a new
// master may accept on them). Safe to call more than once.
func (s *Server) StopAccepting() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	if s.kernel != nil {
		s.kernel.stop()
	}
	for _, ln := range s.lns {
		ln.Close()
	}
	s.lns = nil
}

// Drain stops accepting and lets the client connections this master took
// finish, until ctx ends: with http, responses say Connection: close and
// idle connections are closed after a short linger; with tcp, each
// connection ends when one of its two sides closes it.
func (s *Server) Drain(ctx context.Context) error {
	s.StopAccepting()
	// The accept loops end at once with their listeners; until they have,
	// one may still count a connection it just took, which the waits
	// below must see (a WaitGroup's Add from zero may not race its Wait).
	s.serving.Wait()
	if s.http != nil {
		return s.http.Shutdown(ctx)
	}
	return s.tcp.Wait(ctx)
}

// Stop is the master stopping: nothing is accepted any more, and
// connections or requests waiting for a ready worker give up at once
// (503, or a close), since none will come.
func (s *Server) Stop() {
	s.StopAccepting()
	s.Pool.Close()
	if s.http != nil {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), drainLinger*4)
			defer cancel()
			_ = s.http.Shutdown(ctx)
		}()
	}
}

// Close ends everything still open.
func (s *Server) Close() {
	s.Stop()
	if s.http != nil {
		_ = s.http.Close()
	}
	s.serving.Wait()
}
