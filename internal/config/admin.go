package config

import (
	"strings"
	"time"
)

// Admin is where the admin HTTP endpoint listens (/metrics, /healthz,
// /readyz); the zero value means off.
type Admin struct {
	Network string // "tcp" or "unix"; "" when off
	Address string
}

// On reports whether an admin endpoint is configured.
func (a Admin) On() bool { return a.Network != "" }

// String renders the address as --admin takes it.
func (a Admin) String() string {
	if a.Network == "unix" {
		return "unix:" + a.Address
	}
	return a.Address
}

// admin parses --admin: the --listen syntax (HOST:PORT, :PORT, [::1]:PORT,
// unix:/path), and not an address --listen already takes.
func (v *validator) admin(s string, listen []Listen) Admin {
	if s == "" {
		return Admin{}
	}
	l, err := ParseListen(s, 0)
	if err != nil || strings.Contains(s, "=") {
		v.fail("admin", "%q is not an address: use HOST:PORT, :PORT, [::1]:PORT or unix:/path (no NAME=)", s)
		return Admin{}
	}
	if l.Network == "unix" {
		if err := checkSocketPath(l.Address); err != nil {
			v.fail("admin", "%q: %v", s, err)
		}
	}
	if err := clash(listen, l); err != nil {
		v.fail("admin", "%v: the admin endpoint needs an address of its own", err)
	}
	return Admin{Network: l.Network, Address: l.Address}
}

// shutdownDelay parses --shutdown-delay, which only means something with
// an admin endpoint whose /readyz a load balancer watches.
func (v *validator) shutdownDelay(s string, admin Admin) time.Duration {
	d := v.duration("shutdown_delay", s, 0, false)
	if d > 0 && !admin.On() {
		v.fail("shutdown_delay", "%s needs --admin ADDR: it is how long /readyz answers 503 before draining begins", d)
	}
	return d
}

// Bounds of --log-lines.
const (
	DefaultLogLines = 1000
	MaxLogLines     = 1_000_000
)

// logLines parses --log-lines: 0 is the default.
func (v *validator) logLines(n int) int {
	switch {
	case n == 0:
		return DefaultLogLines
	case n < 1 || n > MaxLogLines:
		v.fail("log_lines", "%d is out of range: valid is 1..%d", n, MaxLogLines)
	}
	return n
}
