package e2etest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/supervisor"
)

// WaitFor polls cond until it holds or the deadline passes.
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// RunBaton runs `baton ARGS...` with env to its end and returns its
// stdout, stderr and exit code.
func RunBaton(t testing.TB, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(BatonBin, args...)
	cmd.Env = env
	return RunCommand(t, cmd)
}

// RunCommand runs cmd to its end and returns its stdout, stderr and exit
// code; a command that cannot be run at all fails the test.
func RunCommand(t testing.TB, cmd *exec.Cmd) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", cmd.Args, err)
	}
	return stdout.String(), stderr.String(), code
}

// CountState is how many of st's workers are in state.
func CountState(st supervisor.Status, state supervisor.State) int {
	n := 0
	for _, w := range st.Workers {
		if w.State == state {
			n++
		}
	}
	return n
}

// PIDs of every worker in st.
func PIDs(st supervisor.Status) []int {
	out := make([]int, 0, len(st.Workers))
	for _, w := range st.Workers {
		out = append(out, w.PID)
	}
	return out
}

// Generations counts st's workers by generation.
func Generations(st supervisor.Status) map[int]int {
	out := map[int]int{}
	for _, w := range st.Workers {
		out[w.Generation]++
	}
	return out
}

// Alive reports whether pid is a live (not zombie) process.
func Alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// WriteScript writes an executable script into dir and returns its path.
func WriteScript(t testing.TB, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}
