package config

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ParseListen parses one --listen value, [NAME=]ADDR, with index giving the
// default name ("socket0", "socket1", ...).
func ParseListen(spec string, index int) (Listen, error) {
	name, addr, named := strings.Cut(spec, "=")
	if !named {
		name, addr = fmt.Sprintf("socket%d", index), spec
	}
	if !validName(name) {
		return Listen{}, fmt.Errorf("%q: socket name %q is not valid: use letters, digits, '.', '_', '-' (no ':')", spec, name)
	}
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		if path == "" {
			return Listen{}, fmt.Errorf("%q: unix: needs a path, e.g. unix:/run/app.sock", spec)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return Listen{}, fmt.Errorf("%q: %w", spec, err)
		}
		if err := checkUnixPathLen(abs); err != nil {
			return Listen{}, fmt.Errorf("%q: %w", spec, err)
		}
		return Listen{Name: name, Network: "unix", Address: abs}, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return Listen{}, fmt.Errorf("%q is not an address: use HOST:PORT, :PORT, [::1]:PORT or unix:/path", spec)
	}
	if !validPort(port) {
		return Listen{}, fmt.Errorf("%q: port %q is not valid: use digits only, 0..65535", spec, port)
	}
	if host != "" && net.ParseIP(host) == nil {
		if _, err := net.LookupHost(host); err != nil {
			return Listen{}, fmt.Errorf("%q: host %q does not resolve", spec, host)
		}
	}
	return Listen{Name: name, Network: "tcp", Address: addr}, nil
}

// validPort accepts a decimal port, digits only: no sign, space or 0x.
func validPort(port string) bool {
	if port == "" || len(port) > 5 || strings.TrimLeft(port, "0123456789") != "" {
		return false
	}
	p, err := strconv.Atoi(port)
	return err == nil && p <= 65535
}

// parseMode reads a --listen-mode value: an octal permission, 0..0777.
func parseMode(s string) (os.FileMode, error) {
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
	n, err := strconv.ParseUint(digits, 8, 32)
	if err != nil || n > 0o777 {
		return 0, fmt.Errorf("%q is not valid: use an octal mode such as 0660", s)
	}
	return os.FileMode(n), nil
}

func (v *validator) listenMode(s string) os.FileMode {
	if s == "" {
		return 0
	}
	m, err := parseMode(s)
	if err != nil {
		v.fail("listen_mode", "%v", err)
	}
	return m
}

func (v *validator) listen(specs []string, mode os.FileMode) []Listen {
	if len(specs) == 0 {
		v.fail("listen", "missing: give at least one address, e.g. -l 127.0.0.1:8080 or -l unix:/run/app.sock")
		return nil
	}
	out := make([]Listen, 0, len(specs))
	seen := map[string]bool{}
	for i, s := range specs {
		l, err := ParseListen(s, i)
		if err != nil {
			v.fail("listen", "%v", err)
			continue
		}
		if seen[l.Name] {
			v.fail("listen", "socket name %q is used twice: names must be unique", l.Name)
		}
		seen[l.Name] = true
		if l.Network == "unix" {
			l.Mode = mode
			if err := checkSocketPath(l.Address); err != nil {
				v.fail("listen", "%q: %v", s, err)
			}
		}
		if err := clash(out, l); err != nil {
			v.fail("listen", "%v", err)
		}
		out = append(out, l)
	}
	return out
}

// clash refuses l when one of the sockets before it already takes its
// address: the same address twice, or a wildcard and a specific address on
// one port. The kernel would refuse the second bind, and the message would
// blame another process.
func clash(before []Listen, l Listen) error {
	for _, b := range before {
		if b.Network != l.Network {
			continue
		}
		if l.Network == "unix" {
			if b.Address == l.Address {
				return fmt.Errorf("unix:%s is given twice", l.Address)
			}
			continue
		}
		if err := clashTCP(b.Address, l.Address); err != nil {
			return err
		}
	}
	return nil
}

func clashTCP(a, b string) error {
	ah, ap, _ := net.SplitHostPort(a)
	bh, bp, _ := net.SplitHostPort(b)
	if ap != bp || strings.TrimLeft(ap, "0") == "" {
		return nil // different ports, or port 0: each socket gets its own
	}
	ah, bh = canonicalHost(ah), canonicalHost(bh)
	switch {
	case ah == bh && a == b:
		return fmt.Errorf("%s is given twice", b)
	case ah == bh:
		return fmt.Errorf("%s is the same address as %s", b, a)
	case covers(ah, bh):
		return fmt.Errorf("%s overlaps %s, which listens on every address of port %s", b, a, ap)
	case covers(bh, ah):
		return fmt.Errorf("%s overlaps %s: %s listens on every address of port %s", b, a, b, ap)
	}
	return nil
}

// canonicalHost spells a host one way: "" for every address (v4 and v6,
// as baton binds ":PORT" and "[::]:PORT"), "0.0.0.0" for every IPv4
// address, an IP in its shortest form, or the host name as given.
func canonicalHost(h string) string {
	ip := net.ParseIP(h)
	switch {
	case ip == nil:
		return h
	case ip.Equal(net.IPv6unspecified):
		return ""
	case ip.To4() != nil:
		return ip.To4().String()
	}
	return ip.String()
}

// covers says whether a wildcard host w also binds host h.
func covers(w, h string) bool {
	if w == "" {
		return true
	}
	ip := net.ParseIP(h)
	return w == "0.0.0.0" && ip != nil && ip.To4() != nil
}
