package config

import (
	"strings"
	"testing"
)

// mustBeOneLine fails when a problem is not one line, as every message must be.
func mustBeOneLine(t *testing.T, problems []error) {
	t.Helper()
	for _, p := range problems {
		if strings.Contains(p.Error(), "\n") {
			t.Fatalf("a problem of more than one line: %q", p.Error())
		}
	}
}

// Any config file: no panic; every problem one line; a file that loads
// resolves without panicking, with one-line problems too.
func FuzzConfigFile(f *testing.F) {
	for _, seed := range []string{
		"workers = 4\nlisten = [\"127.0.0.1:8080\"]\ncommand = [\"/bin/true\"]\n",
		"\xef\xbb\xbfname = \"x\"\n",
		"wrkers = 4\n",
		"workers = \"4\"\nstop_timeout = 30\n",
		"listen = [\"unix:/run/a.sock\", \"web=:80\"]\nready = \"delay:2s\"\nready_timeout = \"1s\"\n",
		"[table]\nkey = 1\n",
		"admin = \":9100\"\nshutdown_delay = \"5s\"\nlog_lines = 0\n",
		"ready = \"output:(\"\n",
		"= = =",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, problems := loadBytes("f.toml", data)
		mustBeOneLine(t, problems)
		if len(problems) == 0 {
			_, problems = Resolve(raw, "f.toml")
			mustBeOneLine(t, problems)
		}
	})
}

// Any --listen value: no panic; one that parses renders back to itself.
func FuzzParseListen(f *testing.F) {
	for _, seed := range []string{"127.0.0.1:8080", ":80", "[::1]:0", "unix:/tmp/a.sock", "web=:8080", "8080", "a=b=c", "[::1", "host:+80", "unix:"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		l, err := ParseListen(spec, 0)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		again, err := ParseListen(l.String(), 0)
		if err != nil || again.Network != l.Network || again.Address != l.Address || again.Name != l.Name {
			t.Fatalf("%q parsed to %+v, which renders %q and parses to %+v (%v)", spec, l, l.String(), again, err)
		}
	})
}

// Any durations, signal and readiness on the command line: no panic,
// one-line problems.
func FuzzDurationsAndReadiness(f *testing.F) {
	f.Add("30s", "60s", "delay:2s", "TERM", "5s")
	f.Add("0", "-1s", "output:listening", "KILL", "")
	f.Add("soon", "1h1m1s1ms", "http:/healthz", "99", "x")
	f.Fuzz(func(t *testing.T, stop, ready, readiness, signal, delay string) {
		raw := Raw{Listen: []string{"127.0.0.1:0"}, Command: []string{"/bin/true"}, StopTimeout: stop, ReadyTimeout: ready,
			Ready: readiness, StopSignal: signal, ShutdownDelay: delay, Admin: "127.0.0.1:0"}
		_, problems := Resolve(raw, "")
		mustBeOneLine(t, problems)
	})
}
