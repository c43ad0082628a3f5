package ops

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/e2etest"
)

func TestBadInputIsRefusedWithOneLineAndStartsNothing(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "started")
	cmd := e2etest.WriteScript(t, dir, "mark.sh", "#!/bin/sh\ntouch "+marker+"\nsleep 5\n")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	files := 0
	file := func(body string) string {
		files++
		p := filepath.Join(dir, fmt.Sprintf("c%d.toml", files))
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ok := []string{"-l", "127.0.0.1:0", "--name", "bad"}
	cases := []struct {
		name string
		args []string
		code int
		want []string // substrings of the one error line
	}{
		{"unknown key", []string{"-c", file("workers = 2\nwrkers = 4\nlisten = [\"127.0.0.1:0\"]\ncommand = [\"" + cmd + "\"]\n"), "--name", "bad"}, 2, []string{":2:1", `unknown key "wrkers"`, "valid keys"}},
		{"bad duration flag", append(ok, "--ready-timeout", "5x", "--", cmd), 2, []string{"--ready-timeout", `"5x"`, "500ms"}},
		{"bad duration key", []string{"-c", file("stop_timeout = \"soon\"\nlisten = [\"127.0.0.1:0\"]\ncommand = [\"" + cmd + "\"]\n"), "--name", "bad"}, 2, []string{`key "stop_timeout"`, `"soon"`}},
		{"wrong type key", []string{"-c", file("workers = \"four\"\n"), "--name", "bad"}, 2, []string{":1:"}},
		{"bad address", []string{"--name", "bad", "-l", "localhost", "--", cmd}, 2, []string{"--listen", "HOST:PORT"}},
		{"bad port", []string{"--name", "bad", "-l", "127.0.0.1:99999", "--", cmd}, 2, []string{"--listen", "port"}},
		{"port in use", []string{"--name", "bad", "-l", busy.Addr().String(), "--", cmd}, 1, []string{"--listen", "address already in use"}},
		{"missing command", ok, 2, []string{"command: missing"}},
		{"missing listen", []string{"--name", "bad", "--", cmd}, 2, []string{"--listen: missing"}},
		{"command not found", append(ok, "--", "no-such-server-xyz"), 2, []string{"command", "no-such-server-xyz", "not found"}},
		{"zero workers", append(ok, "-w", "0", "--", cmd), 2, []string{"--workers", "1..1024"}},
		{"too many workers", append(ok, "-w", "5000", "--", cmd), 2, []string{"--workers", "1..1024"}},
		{"bad signal", append(ok, "--stop-signal", "TERMINATE", "--", cmd), 2, []string{"--stop-signal", "TERM"}},
		{"bad ready", append(ok, "--ready", "sometimes", "--", cmd), 2, []string{"--ready", "notify"}},
		{"bad ready pattern", append(ok, "--ready", "output:listening (on", "--", cmd), 2, []string{"--ready", "not a valid regular expression", "missing closing )", "output:REGEX"}},
		{"empty ready pattern", append(ok, "--ready", "output:", "--", cmd), 2, []string{"--ready", "has no pattern", "output:REGEX"}},
		{"replace with one worker", append(ok, "-w", "1", "--strategy", "replace", "--", cmd), 2, []string{"--strategy", "surge"}},
		{"bad log format", append(ok, "--log-format", "xml", "--", cmd), 2, []string{"--log-format", "text or json"}},
		{"missing dir", append(ok, "--dir", filepath.Join(dir, "nope"), "--", cmd), 2, []string{"--dir", "not an existing directory"}},
		{"bad env", append(ok, "--env", "NOEQUALS", "--", cmd), 2, []string{"--env", "KEY=VALUE"}},
		{"unknown user", append(ok, "--user", "no-such-user-xyz", "--", cmd), 2, []string{"--user", `unknown user "no-such-user-xyz"`}},
		{"unknown group", append(ok, "--group", "no-such-group-xyz", "--", cmd), 2, []string{"--group", `unknown group "no-such-group-xyz"`}},
		{"shutdown delay without admin", append(ok, "--shutdown-delay", "5s", "--", cmd), 2, []string{"--shutdown-delay", "needs --admin"}},
		{"unknown flag", append(ok, "--wrokers", "2", "--", cmd), 2, []string{"--wrokers"}},
		{"missing config file", []string{"-c", filepath.Join(dir, "none.toml"), "--name", "bad"}, 2, []string{"--config"}},
	}
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+e2etest.RuntimeDir(t))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := e2etest.RunBaton(t, env, append([]string{"run"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d; stderr: %s", code, tc.code, stderr)
			}
			line := strings.TrimSuffix(stderr, "\n")
			if strings.Contains(line, "\n") || line == "" {
				t.Fatalf("want one error line, got %q (stdout %q)", stderr, stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Fatalf("error line %q lacks %q", line, w)
				}
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatal("the command was started")
			}
		})
	}
}

func TestCheckListsEveryProblem(t *testing.T) {
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+e2etest.RuntimeDir(t))
	_, stderr, code := e2etest.RunBaton(t, env, "check", "-w", "0", "--ready-timeout", "x", "-l", "nope", "--", "sh")
	if code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	for _, w := range []string{"--workers", "--ready-timeout", "--listen"} {
		if !strings.Contains(stderr, w) {
			t.Fatalf("check output lacks %s:\n%s", w, stderr)
		}
	}
	if n := strings.Count(strings.TrimSpace(stderr), "\n") + 1; n != 3 {
		t.Fatalf("want 3 problem lines, got %d:\n%s", n, stderr)
	}
}

func TestCheckRefusesABadReadyPattern(t *testing.T) {
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+e2etest.RuntimeDir(t))
	_, stderr, code := e2etest.RunBaton(t, env, "check", "--ready", "output:[0-9", "-l", "127.0.0.1:0", "--", "sh")
	if code != 1 || !strings.HasPrefix(stderr, `baton: --ready: "output:[0-9" is not a valid regular expression`) || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d, want 1 and one line naming --ready:\n%s", code, stderr)
	}
	stdout, stderr, code := e2etest.RunBaton(t, env, "check", "--ready", "output:Listening on", "-l", "127.0.0.1:0", "--", "sh")
	if code != 0 || !strings.Contains(stdout, "ready = 'output:Listening on'") {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
}

func TestCheckPrintsEffectiveConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "baton.toml")
	if err := os.WriteFile(cfg, []byte("workers = 3\nlisten = [\"http=127.0.0.1:0\"]\nstop_timeout = \"5s\"\ncommand = [\"sh\", \"-c\", \"true\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+e2etest.RuntimeDir(t))
	stdout, stderr, code := e2etest.RunBaton(t, env, "check", "-c", cfg, "-w", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{"workers = 2", "stop_timeout = '5s'", "http=127.0.0.1:0", "ready = 'notify'", "ready_timeout = '1m0s'"} {
		if !strings.Contains(stdout, w) {
			t.Fatalf("effective config lacks %q:\n%s", w, stdout)
		}
	}
	// The printed config is itself a valid config file.
	again := filepath.Join(dir, "again.toml")
	if err := os.WriteFile(again, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := e2etest.RunBaton(t, env, "check", "-c", again); code != 0 {
		t.Fatalf("printed config does not check: %s", stderr)
	}
}
