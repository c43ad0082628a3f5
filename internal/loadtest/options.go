package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultRequestTimeout is used when Options.RequestTimeout is zero.
const DefaultRequestTimeout = 10 * time.Second

// Options configures Run.
type Options struct {
	// Network is "tcp" (also "tcp4", "tcp6") or "unix". Default "tcp".
	Network string
	// Addr is host:port for tcp, or the socket path for unix.
	Addr string
	// Host is the Host header. Default: Addr for tcp, "localhost" for unix.
	Host string
	// Conns is the number of concurrent keep-alive connections, each
	// driven by its own goroutine. Default 1.
	Conns int
	// Method is the request method. Default "POST", which no HTTP client
	// would replay on its own.
	Method string
	// Path is the request target. Default "/".
	Path string
	// Body is sent with every request, with a Content-Length header.
	Body []byte
	// Requests caps the total number of requests; 0 means no cap.
	Requests int
	// Duration bounds the run; 0 means until ctx is done.
	Duration time.Duration
	// RequestTimeout bounds dial, write and read of one request.
	// Default DefaultRequestTimeout.
	RequestTimeout time.Duration
	// OnResponse, when set, is called for every complete response
	// (2xx or not) with its status and fully read body. It is called from
	// many goroutines at once, so it must be safe for concurrent use. The
	// body slice is freshly allocated for each call and may be retained.
	// A slow OnResponse slows the run down.
	OnResponse func(status int, body []byte)
	// OnOutcome, when set, is called for every request once its outcome
	// is known: when it began, how long it took, and whether it got a
	// complete 2xx response. Same concurrency rules as OnResponse.
	OnOutcome func(start time.Time, took time.Duration, ok bool)
}

// withDefaults returns a copy of o with defaults filled in, or an error
// for options that cannot describe a run.
func (o Options) withDefaults(ctx context.Context) (Options, error) {
	if o.Network == "" {
		o.Network = "tcp"
	}
	if o.Method == "" {
		o.Method = http.MethodPost
	}
	if o.Path == "" {
		o.Path = "/"
	}
	if o.Conns == 0 {
		o.Conns = 1
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.Host == "" {
		o.Host = o.Addr
		if o.Network == "unix" {
			o.Host = "localhost"
		}
	}
	return o, o.validate(ctx)
}

func (o Options) validate(ctx context.Context) error {
	switch {
	case o.Network != "tcp" && o.Network != "tcp4" && o.Network != "tcp6" && o.Network != "unix":
		return fmt.Errorf("loadtest: unsupported network %q (want tcp or unix)", o.Network)
	case o.Addr == "":
		return errors.New("loadtest: Addr is required")
	case o.Conns < 0 || o.Requests < 0 || o.Duration < 0 || o.RequestTimeout < 0:
		return errors.New("loadtest: Conns, Requests, Duration and RequestTimeout must not be negative")
	case !isToken(o.Method):
		return fmt.Errorf("loadtest: invalid method %q", o.Method)
	case !validField(o.Path) || (o.Path[0] != '/' && o.Path != "*"):
		return fmt.Errorf("loadtest: invalid path %q", o.Path)
	case !validField(o.Host):
		return fmt.Errorf("loadtest: invalid host %q", o.Host)
	case o.Requests == 0 && o.Duration == 0 && ctx.Done() == nil:
		return errors.New("loadtest: unbounded run: set Requests or Duration, or pass a cancelable context")
	}
	return nil
}

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// validField reports whether s is non-empty and can go on a request line
// or header line as is: no spaces or control characters.
func validField(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// requestBytes renders the one request every connection sends.
func (o Options) requestBytes() []byte {
	var b strings.Builder
	b.WriteString(o.Method + " " + o.Path + " HTTP/1.1\r\n")
	b.WriteString("Host: " + o.Host + "\r\n")
	b.WriteString("User-Agent: baton-loadtest\r\n")
	b.WriteString("Content-Length: " + strconv.Itoa(len(o.Body)) + "\r\n\r\n")
	b.Write(o.Body)
	return []byte(b.String())
}
