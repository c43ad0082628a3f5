package e2etest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// SamePIDs is nil when a and b list the same pids in the same order, and
// says what changed otherwise.
func SamePIDs(a, b []int) error {
	if len(a) != len(b) {
		return errors.New("worker count changed: " + strconv.Itoa(len(a)) + " → " + strconv.Itoa(len(b)))
	}
	for i := range a {
		if a[i] != b[i] {
			return errors.New("pids changed: " + strconv.Itoa(a[i]) + " → " + strconv.Itoa(b[i]))
		}
	}
	return nil
}

// ReadPIDFile waits up to 5 s for path to hold a pid and returns it.
func ReadPIDFile(t testing.TB, path string) int {
	t.Helper()
	var pid int
	WaitFor(t, "pid file "+path, 5*time.Second, func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	return pid
}

// Touch creates the empty file path (the example server's switches:
// BROKEN, HANG, MUTE...).
func Touch(t testing.TB, path string) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}
