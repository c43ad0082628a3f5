package config

import "fmt"

// Strategy is how a rollout replaces a slot's worker.
type Strategy int

// Strategies of a rollout. The zero value is the default, surge.
const (
	// StrategySurge starts the new worker, waits until it is ready, then
	// drains the old one: capacity never drops.
	StrategySurge Strategy = iota
	// StrategyReplace drains the old worker first, then starts the new one:
	// for servers that cannot run twice at once. Refused with 1 worker.
	StrategyReplace
)

var strategyNames = [...]string{StrategySurge: "surge", StrategyReplace: "replace"}

// String returns "surge" or "replace".
func (s Strategy) String() string {
	if s >= 0 && int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return fmt.Sprintf("Strategy(%d)", int(s))
}

// ParseStrategy reads "surge" or "replace"; anything else (also "") is an
// error saying what is valid.
func ParseStrategy(s string) (Strategy, error) {
	for i, name := range strategyNames {
		if s == name {
			return Strategy(i), nil
		}
	}
	return StrategySurge, fmt.Errorf("%q is not valid: valid is surge or replace", s)
}

// MarshalText renders the strategy as its name, for JSON and TOML.
func (s Strategy) MarshalText() ([]byte, error) {
	if s < 0 || int(s) >= len(strategyNames) {
		return nil, fmt.Errorf("strategy %d is not valid: valid is surge or replace", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a strategy's name, as [ParseStrategy].
func (s *Strategy) UnmarshalText(b []byte) error {
	v, err := ParseStrategy(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ReadyKind is how a new worker shows that it is ready.
type ReadyKind int

// Kinds of readiness. The zero value is the default, notify.
const (
	// ReadyNotify waits for READY=1 on the worker's NOTIFY_SOCKET.
	ReadyNotify ReadyKind = iota
	// ReadyDelay counts a worker ready a fixed delay after its start.
	ReadyDelay
	// ReadyOutput counts a worker ready once a line of its stdout or stderr
	// matches a regular expression.
	ReadyOutput
	// ReadyTCP (proxy mode): a connect to the worker's private port succeeds.
	ReadyTCP
	// ReadyHTTP (proxy mode): a GET of Readiness.Path on the worker's
	// private port answers 2xx.
	ReadyHTTP
)

var readyNames = [...]string{ReadyNotify: "notify", ReadyDelay: "delay", ReadyOutput: "output", ReadyTCP: "tcp", ReadyHTTP: "http"}

// String returns "notify", "delay", "output", "tcp" or "http".
func (k ReadyKind) String() string {
	if k >= 0 && int(k) < len(readyNames) {
		return readyNames[k]
	}
	return fmt.Sprintf("ReadyKind(%d)", int(k))
}

// MarshalText renders the kind as its name, for JSON.
func (k ReadyKind) MarshalText() ([]byte, error) {
	if k < 0 || int(k) >= len(readyNames) {
		return nil, fmt.Errorf("readiness kind %d is not valid: valid is notify, delay, output, tcp or http", int(k))
	}
	return []byte(k.String()), nil
}

// Mode is how workers get their sockets.
type Mode int

// Modes. The zero value is the default, inherit.
const (
	// ModeInherit: every worker inherits the master's listening sockets.
	ModeInherit Mode = iota
	// ModeProxy: the master accepts on the listening sockets and forwards
	// to each worker's private loopback port.
	ModeProxy
)

// String returns "inherit" or "proxy".
func (m Mode) String() string {
	if m == ModeProxy {
		return "proxy"
	}
	return "inherit"
}

// ProxyKind is what the proxy of proxy mode understands.
type ProxyKind int

// Proxy kinds. The zero value is the default, tcp.
const (
	// ProxyTCP forwards connections (L4), any protocol.
	ProxyTCP ProxyKind = iota
	// ProxyHTTP forwards HTTP/1.1 requests, with request-level draining
	// and retries.
	ProxyHTTP
)

// String returns "tcp" or "http".
func (k ProxyKind) String() string {
	if k == ProxyHTTP {
		return "http"
	}
	return "tcp"
}
