package worker

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestMain also serves as the helper process: the test binary re-run with
// real inherited descriptors and a real activation environment, since
// LISTEN_PID must name the process that calls Listen. The parent cannot
// know the child's pid before it starts, so LISTEN_PID=self is replaced
// by the child's own pid here, before anything reads it.
func TestMain(m *testing.M) {
	if c := os.Getenv("WORKER_HELPER"); c != "" {
		if os.Getenv("LISTEN_PID") == "self" {
			os.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()))
		}
		if err := helpers[c](); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helpers are the child's side of tests that need a process of their
// own, by name; the platform's test files register them.
var helpers = map[string]func() error{}

// runHelper runs helper c with files at fd 3, 4, ... and env added.
func runHelper(t *testing.T, c string, files []*os.File, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, "WORKER_HELPER="+c, "GORACE=atexit_sleep_ms=0")...)
	cmd.ExtraFiles = files
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper %s: %v\n%s", c, err, out)
	}
	return strings.TrimSpace(string(out))
}
