package config

import (
	"fmt"
	"strconv"
	"strings"
)

// restartKeys are the keys a rolling restart cannot apply: the master reads
// them once, at start (its name and control socket, its pidfile, its log
// format, the sockets it bound, the files it watches or reads the
// compatibility token from). Each renders the key's value for a message.
var restartKeys = []struct {
	key   string
	value func(Config) string
}{
	{"name", func(c Config) string { return fmt.Sprintf("%q", c.Name) }},
	{"control", func(c Config) string { return quoteOrNone(c.Control) }},
	{"pidfile", func(c Config) string { return quoteOrNone(c.Pidfile) }},
	{"log_format", func(c Config) string { return c.LogFormat }},
	{"listen", func(c Config) string { return listenString(c.Listen) }},
	{"listen_mode", func(c Config) string { return modeString(c) }},
	{"mode", func(c Config) string { return c.Mode.String() }},
	{"proxy", func(c Config) string { return c.Proxy.String() }},
	{"proxy_protocol", func(c Config) string { return strconv.Itoa(c.ProxyProtocol) }},
	{"steer", func(c Config) string { return strconv.FormatBool(c.Steer) }},
	{"compat", func(c Config) string { return quoteOrNone(c.Compat) }},
	{"watch", func(c Config) string { return listString(c.Watch) }},
	{"admin", func(c Config) string { return quoteOrNone(c.Admin.String()) }},
	{"shutdown_delay", func(c Config) string { return c.ShutdownDelay.String() }},
	{"log_lines", func(c Config) string { return fmt.Sprint(c.LogLines) }},
	{"user", func(c Config) string { return quoteOrNone(c.RunAs.User) }},
	{"group", func(c Config) string { return quoteOrNone(c.RunAs.Group) }},
}

// Unapplied compares the running configuration with the one a reload read
// and returns one line for each changed key that a rolling restart does not
// apply, saying what does. A rollout applies the command, env, dir, ready,
// the timeouts, the stop signal, the strategy and parallel; nil when
// nothing else changed.
func Unapplied(running, next Config) []string {
	var out []string
	for _, k := range restartKeys {
		if was, now := k.value(running), k.value(next); was != now {
			out = append(out, fmt.Sprintf("%s changed %s → %s in the config: not applied by a rollout; needs `baton upgrade` or a restart", k.key, was, now))
		}
	}
	if running.Workers != next.Workers {
		out = append(out, fmt.Sprintf("workers changed %d → %d in the config: the pool size is kept; run `baton scale %d`", running.Workers, next.Workers, next.Workers))
	}
	return out
}

func quoteOrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return fmt.Sprintf("%q", s)
}

func listString(list []string) string {
	if len(list) == 0 {
		return "(none)"
	}
	return "[" + strings.Join(list, ", ") + "]"
}

func listenString(ls []Listen) string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = l.String()
	}
	return listString(s)
}

func modeString(c Config) string {
	if c.ListenMode == 0 {
		return "(from the umask)"
	}
	return fmt.Sprintf("%04o", uint32(c.ListenMode))
}
