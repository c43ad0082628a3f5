package config

import (
	"regexp"
	"strings"
	"time"
)

// DefaultDrainTimeout is how long proxy mode waits, by default, for a
// worker that left the rotation to finish its connections or requests.
const DefaultDrainTimeout = 5 * time.Second

// DefaultPortEnv is the variable that carries a worker's private port.
const DefaultPortEnv = "PORT"

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// proxyOptions reads --mode and the options only proxy mode takes; in
// inherit mode each of those is refused rather than ignored.
func (v *validator) proxyOptions(r Raw, c *Config) {
	switch r.Mode {
	case "", "inherit":
		c.Mode = ModeInherit
	case "proxy":
		c.Mode = ModeProxy
	default:
		v.fail("mode", "%q is not valid: valid is inherit or proxy", r.Mode)
	}
	if c.Mode != ModeProxy {
		v.proxyOnly(r)
		return
	}
	c.Proxy = v.proxyKind(r.Proxy)
	c.PortEnv = v.portEnv(r.PortEnv)
	c.DrainTimeout = v.duration("drain_timeout", r.DrainTimeout, DefaultDrainTimeout, false)
	c.ProxyProtocol = v.proxyProtocol(r.ProxyProtocol, c.Proxy)
	c.Steer = v.steer(r.Steer, c.Proxy)
}

// steer reads --steer: on by default with --proxy tcp.
func (v *validator) steer(s string, kind ProxyKind) bool {
	switch s {
	case "", "auto":
	case "off":
		return false
	default:
		v.fail("steer", "%q is not valid: valid is auto or off", s)
		return false
	}
	if kind != ProxyTCP {
		if s != "" {
			v.fail("steer", "only valid with --proxy tcp: --proxy http must see every request")
		}
		return false
	}
	return true
}

// proxyOnly refuses the proxy-mode options in inherit mode.
func (v *validator) proxyOnly(r Raw) {
	for _, o := range []struct{ key, val string }{
		{"proxy", r.Proxy}, {"port_env", r.PortEnv}, {"drain_timeout", r.DrainTimeout}, {"proxy_protocol", r.ProxyProtocol}, {"steer", r.Steer},
	} {
		if o.val != "" {
			v.fail(o.key, "only valid with --mode proxy (workers inherit the sockets in --mode inherit)")
		}
	}
}

func (v *validator) proxyKind(s string) ProxyKind {
	switch s {
	case "", "tcp":
		return ProxyTCP
	case "http":
		return ProxyHTTP
	}
	v.fail("proxy", "%q is not valid: valid is tcp or http", s)
	return ProxyTCP
}

func (v *validator) portEnv(s string) string {
	if s == "" {
		return DefaultPortEnv
	}
	if !envNameRE.MatchString(s) {
		v.fail("port_env", "%q is not a variable name: use letters, digits and '_', not starting with a digit", s)
	}
	return s
}

func (v *validator) proxyProtocol(s string, kind ProxyKind) int {
	n := 0
	switch s {
	case "", "off":
		return 0
	case "v1":
		n = 1
	case "v2":
		n = 2
	default:
		v.fail("proxy_protocol", "%q is not valid: valid is v1, v2 or off", s)
		return 0
	}
	if kind != ProxyTCP {
		v.fail("proxy_protocol", "only valid with --proxy tcp: --proxy http sets X-Forwarded-For instead")
	}
	return n
}

// ready reads --ready; the default is notify in inherit mode and tcp in
// proxy mode, and tcp and http:PATH probe the private port of proxy mode.
func (v *validator) ready(s string, mode Mode) Readiness {
	switch {
	case s == "" && mode == ModeProxy:
		return Readiness{Kind: ReadyTCP}
	case s == "" || s == "notify":
		return Readiness{Kind: ReadyNotify}
	case strings.HasPrefix(s, "delay:"):
		d, err := time.ParseDuration(strings.TrimPrefix(s, "delay:"))
		if err != nil || d < 0 {
			v.fail("ready", "%q has a bad duration: want delay:DUR with a Go duration such as delay:500ms", s)
		}
		return Readiness{Kind: ReadyDelay, Delay: d}
	case strings.HasPrefix(s, "output:"):
		return v.readyOutput(s)
	case (s == "tcp" || strings.HasPrefix(s, "http:")) && mode != ModeProxy:
		v.fail("ready", "%q probes a worker's private port and needs --mode proxy: with inherited sockets use notify, output:REGEX or delay:DUR", s)
	case s == "tcp":
		return Readiness{Kind: ReadyTCP}
	case strings.HasPrefix(s, "http:"):
		return v.readyHTTP(s)
	default:
		v.fail("ready", "%q is not valid: valid is notify, output:REGEX (e.g. 'output:listening on'), tcp, http:PATH or delay:DUR (e.g. delay:2s)", s)
	}
	return Readiness{Kind: ReadyNotify}
}

func (v *validator) readyHTTP(s string) Readiness {
	path := strings.TrimPrefix(s, "http:")
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t\r\n") {
		v.fail("ready", "%q has a bad path: want http:PATH with PATH starting with / (e.g. http:/healthz)", s)
	}
	return Readiness{Kind: ReadyHTTP, Path: path}
}
