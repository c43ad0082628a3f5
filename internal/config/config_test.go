package config

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func resolveArgs(t *testing.T, args ...string) (Config, []error) {
	t.Helper()
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	f := BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	var base Raw
	if f.ConfigFile != "" {
		raw, problems := LoadFile(f.ConfigFile)
		if problems != nil {
			return Config{}, problems
		}
		base = raw
	}
	return Resolve(f.Apply(base, fs.Args()), f.ConfigFile)
}

func TestDefaults(t *testing.T) {
	c, problems := resolveArgs(t, "-l", ":8080", "sh")
	if problems != nil {
		t.Fatal(problems)
	}
	if c.Name != "sh" || c.Workers < 1 || c.StopTimeout != 30*time.Second || c.ReadyTimeout != time.Minute ||
		c.StopSignal != syscall.SIGTERM || c.Strategy != StrategySurge || c.Parallel != 1 || c.Ready.Kind != ReadyNotify {
		t.Fatalf("defaults: %+v", c)
	}
	if c.Listen[0] != (Listen{Name: "socket0", Network: "tcp", Address: ":8080"}) {
		t.Fatalf("listen: %+v", c.Listen)
	}
}

func TestFlagsOverrideFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "b.toml")
	body := "workers = 3\nstop_timeout = \"5s\"\nlisten = [\"web=127.0.0.1:0\"]\nstop_signal = \"QUIT\"\ncommand = [\"sh\"]\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	c, problems := resolveArgs(t, "-c", p, "-w", "2")
	if problems != nil {
		t.Fatal(problems)
	}
	if c.Workers != 2 || c.StopTimeout != 5*time.Second || c.StopSignal != syscall.SIGQUIT || c.Listen[0].Name != "web" {
		t.Fatalf("%+v", c)
	}
}

func TestEveryProblemIsReportedWithItsOrigin(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "b.toml")
	if err := os.WriteFile(p, []byte("stop_timeout = \"x\"\nlisten = [\"nope\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, problems := resolveArgs(t, "-c", p, "-w", "0", "--ready", "delay:x")
	var msgs []string
	for _, e := range problems {
		msgs = append(msgs, e.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, w := range []string{"command: missing", "--workers: 0", `b.toml: key "stop_timeout"`, `b.toml: key "listen"`, "--ready:"} {
		if !strings.Contains(all, w) {
			t.Errorf("problems lack %q:\n%s", w, all)
		}
	}
}

func TestUnknownKeysHaveLineAndColumn(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "b.toml")
	if err := os.WriteFile(p, []byte("workers = 1\n  wrkers = 2\nlisen = []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, problems := LoadFile(p)
	if len(problems) != 2 {
		t.Fatalf("want 2 problems, got %v", problems)
	}
	if !strings.Contains(problems[0].Error(), "b.toml:2:3: unknown key \"wrkers\"") || !strings.Contains(problems[1].Error(), ":3:1: unknown key \"lisen\"") {
		t.Fatalf("%v", problems)
	}
}

func TestParseListen(t *testing.T) {
	good := map[string]Listen{
		"127.0.0.1:80":      {Name: "socket0", Network: "tcp", Address: "127.0.0.1:80"},
		"web=[::1]:8080":    {Name: "web", Network: "tcp", Address: "[::1]:8080"},
		":0":                {Name: "socket0", Network: "tcp", Address: ":0"},
		"api=unix:/run/a.s": {Name: "api", Network: "unix", Address: "/run/a.s"},
	}
	for in, want := range good {
		got, err := ParseListen(in, 0)
		if err != nil || got != want {
			t.Errorf("ParseListen(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"8080", "a:b=1:2", "host:port", ":70000", "unix:", "bad name=:80"} {
		if _, err := ParseListen(bad, 0); err == nil {
			t.Errorf("ParseListen(%q) accepted", bad)
		}
	}
}

// Every flag reaches its field: the flag name is the TOML key with '-'.
func TestEveryFlagOverridesItsKey(t *testing.T) {
	dir := t.TempDir()
	pid, ctl := filepath.Join(dir, "p"), filepath.Join(dir, "c")
	c, problems := resolveArgs(t, "-l", ":0", "--dir", dir, "--env", "A=1", "--watch", dir, "--pidfile", pid, "--control", ctl, "sh")
	if problems != nil {
		t.Fatal(problems)
	}
	if c.Dir != dir || len(c.Env) != 1 || len(c.Watch) != 1 || c.Pidfile != pid || c.Control != ctl {
		t.Fatalf("%+v", c)
	}
}

// writeFile writes body to a new file in a test directory.
func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "b.toml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
