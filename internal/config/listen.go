package config

import (
	"fmt"
	"net"
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
	if !nameRE.MatchString(name) {
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
		if len(abs) > 107 {
			return Listen{}, fmt.Errorf("%q: unix socket path is %d bytes, the limit is 107", spec, len(abs))
		}
		return Listen{Name: name, Network: "unix", Address: abs}, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return Listen{}, fmt.Errorf("%q is not an address: use HOST:PORT, :PORT, [::1]:PORT or unix:/path", spec)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return Listen{}, fmt.Errorf("%q: port %q is not valid: use 0..65535", spec, port)
	}
	if host != "" && net.ParseIP(host) == nil {
		if _, err := net.LookupHost(host); err != nil {
			return Listen{}, fmt.Errorf("%q: host %q does not resolve", spec, host)
		}
	}
	return Listen{Name: name, Network: "tcp", Address: addr}, nil
}

func (v *validator) listen(specs []string) []Listen {
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
		out = append(out, l)
	}
	return out
}
