package config

import (
	"testing"
	"time"
)

func TestProxyModeDefaultsAndOptions(t *testing.T) {
	c := valid(t, "--mode", "proxy", "-l", "127.0.0.1:0", "sh")
	if c.Mode != ModeProxy || c.Proxy != ProxyTCP || c.PortEnv != "PORT" || c.DrainTimeout != 5*time.Second ||
		c.Ready.Kind != ReadyTCP || c.ProxyProtocol != 0 || !c.Steer || c.Raw().Steer != "auto" {
		t.Fatalf("proxy defaults: %+v", c)
	}
	if c := valid(t, "--mode", "proxy", "--steer", "off", "-l", "127.0.0.1:0", "sh"); c.Steer || c.Raw().Steer != "off" {
		t.Fatalf("--steer off: %+v", c)
	}
	c = valid(t, "--mode", "proxy", "--proxy", "http", "--port-env", "HTTP_PORT", "--drain-timeout", "2s",
		"--ready", "http:/healthz", "-l", "127.0.0.1:0", "sh")
	if c.Proxy != ProxyHTTP || c.PortEnv != "HTTP_PORT" || c.DrainTimeout != 2*time.Second ||
		c.Ready != (Readiness{Kind: ReadyHTTP, Path: "/healthz"}) || c.Ready.String() != "http:/healthz" {
		t.Fatalf("proxy options: %+v", c)
	}
	if c := valid(t, "--mode", "proxy", "--proxy-protocol", "v2", "--ready", "notify", "-l", "127.0.0.1:0", "sh"); c.ProxyProtocol != 2 || c.Ready.Kind != ReadyNotify {
		t.Fatalf("v2 with notify: %+v", c)
	}
	r := c.Raw()
	if r.Mode != "proxy" || r.Proxy != "http" || r.PortEnv != "HTTP_PORT" || r.ProxyProtocol != "" || r.Steer != "" || c.Steer || r.DrainTimeout != "2s" || r.Ready != "http:/healthz" {
		t.Fatalf("effective config: %+v", r)
	}
}

func TestProxyOptionsAreRefusedWhereTheyDoNotApply(t *testing.T) {
	l := []string{"-l", "127.0.0.1:0"}
	cases := map[string][]string{
		`--proxy: only valid with --mode proxy (workers inherit the sockets in --mode inherit)`:                                                  {"--proxy", "http"},
		`--port-env: only valid with --mode proxy (workers inherit the sockets in --mode inherit)`:                                               {"--port-env", "P"},
		`--drain-timeout: only valid with --mode proxy (workers inherit the sockets in --mode inherit)`:                                          {"--drain-timeout", "1s"},
		`--ready: "tcp" probes a worker's private port and needs --mode proxy: with inherited sockets use notify, output:REGEX or delay:DUR`:     {"--ready", "tcp"},
		`--ready: "http:/x" probes a worker's private port and needs --mode proxy: with inherited sockets use notify, output:REGEX or delay:DUR`: {"--ready", "http:/x"},
		`--mode: "sidecar" is not valid: valid is inherit or proxy`:                                                                              {"--mode", "sidecar"},
		`--proxy: "udp" is not valid: valid is tcp or http`:                                                                                      {"--mode", "proxy", "--proxy", "udp"},
		`--proxy-protocol: only valid with --proxy tcp: --proxy http sets X-Forwarded-For instead`:                                               {"--mode", "proxy", "--proxy", "http", "--proxy-protocol", "v1"},
		`--proxy-protocol: "v3" is not valid: valid is v1, v2 or off`:                                                                            {"--mode", "proxy", "--proxy-protocol", "v3"},
		`--steer: only valid with --mode proxy (workers inherit the sockets in --mode inherit)`:                                                  {"--steer", "off"},
		`--steer: only valid with --proxy tcp: --proxy http must see every request`:                                                              {"--mode", "proxy", "--proxy", "http", "--steer", "auto"},
		`--steer: "maybe" is not valid: valid is auto or off`:                                                                                    {"--mode", "proxy", "--steer", "maybe"},
		`--port-env: "1X" is not a variable name: use letters, digits and '_', not starting with a digit`:                                        {"--mode", "proxy", "--port-env", "1X"},
		`--ready: "http:healthz" has a bad path: want http:PATH with PATH starting with / (e.g. http:/healthz)`:                                  {"--mode", "proxy", "--ready", "http:healthz"},
	}
	for want, args := range cases {
		onlyProblem(t, want, append(append(args, l...), "sh")...)
	}
}
