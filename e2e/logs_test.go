package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// noisy prints a 100 KB line, binary bytes and a terminal escape, then
// says ready via delay and sleeps.
const noisyScript = `#!/bin/sh
head -c 100000 /dev/zero | tr '\0' 'a'; echo
printf 'bin:\377\376\033[31mred\n'
echo "to stderr" >&2
exec sleep 1000
`

func TestWorkerOutputIsTaggedSplitAndSafe(t *testing.T) {
	script := writeScript(t, t.TempDir(), "noisy.sh", noisyScript)
	m := startMaster(t, 1, "--name", "noisy", "-w", "1", "-l", "127.0.0.1:0", "--ready", "delay:10ms", "--", script)
	waitFor(t, "output", 5*time.Second, func() bool { return strings.Contains(m.out.String(), "to stderr") })
	waitFor(t, "binary line", 5*time.Second, func() bool { return strings.Contains(m.out.String(), "red") })
	out := m.out.String()
	long := 0
	for _, line := range strings.Split(out, "\n") {
		if !utf8.ValidString(line) || strings.ContainsRune(line, 0x1b) {
			t.Fatalf("unsafe line: %q", line)
		}
		if strings.Contains(line, "aaaa") {
			if !strings.HasPrefix(line, "[slot 0 pid ") || len(line) > 16<<10+40 {
				t.Fatalf("long output line not tagged/split: %d bytes, %q...", len(line), line[:40])
			}
			long++
		}
	}
	if long < 7 {
		t.Fatalf("100 KB line became %d lines, want >= 7 of at most 16 KiB", long)
	}
	if !strings.Contains(out, `bin:\xff\xfe\x1b[31mred`) {
		t.Fatalf("binary output not escaped:\n%s", out[len(out)-500:])
	}
}

func TestJSONLogFormat(t *testing.T) {
	script := writeScript(t, t.TempDir(), "noisy.sh", noisyScript)
	m := startMaster(t, 1, "--name", "json", "-w", "1", "-l", "127.0.0.1:0", "--ready", "delay:10ms", "--log-format", "json", "--", script)
	waitFor(t, "output", 5*time.Second, func() bool { return strings.Contains(m.out.String(), "to stderr") })
	m.kill()
	var workerLines, events int
	for _, line := range strings.Split(strings.TrimSpace(m.out.String()), "\n") {
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Fatalf("not one JSON object per line: %q: %v", line, err)
		}
		if _, ok := obj["slot"]; ok && obj["stream"] != nil {
			workerLines++
		} else if obj["level"] != nil {
			events++
		}
	}
	if workerLines < 8 || events < 3 {
		t.Fatalf("worker lines %d, master events %d", workerLines, events)
	}
}

func TestControlSocketRefusesOtherUsers(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to act as another user")
	}
	m := startMaster(t, 1, "--name", "peer", "-w", "1", "-l", "127.0.0.1:0", "--", helloBin)
	// Open the directory and socket to everyone so that only the
	// SO_PEERCRED check stands between user nobody and the master.
	dir := filepath.Dir(m.ctl.Path)
	for _, p := range []string{filepath.Dir(dir), dir, m.ctl.Path} {
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(batonBin, "status", "--control", m.ctl.Path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); !ok {
		t.Fatalf("run baton as nobody: %v", err)
	}
	t.Logf("as nobody: %s", out)
	waitFor(t, "refusal log", 5*time.Second, func() bool { return strings.Contains(m.out.String(), "control connection refused") })
	m.status() // root still gets it
}
