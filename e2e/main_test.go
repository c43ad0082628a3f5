package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Binaries built once for all tests.
var (
	batonBin string
	helloBin string
	plainBin string // a server that drains with plain http.Server.Shutdown
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "baton-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = os.Chmod(dir, 0o755) // other users run the binaries too (TestControlSocketRefusesOtherUsers)
	batonBin = filepath.Join(dir, "baton")
	helloBin = filepath.Join(dir, "hello")
	plainBin = filepath.Join(dir, "plainserver")
	for bin, pkg := range map[string]string{batonBin: "../cmd/baton", helloBin: "../examples/hello", plainBin: "./testdata/plainserver"} {
		args := []string{"build", "-o", bin}
		if bin == batonBin && !benchmarking() {
			// The master itself runs under the race detector: its
			// goroutines (supervisor, control, capture) are checked too.
			// Benchmarks measure the binary users run.
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, pkg)...).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", pkg, err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// benchmarking reports whether this run was asked for benchmarks.
func benchmarking() bool {
	for _, a := range os.Args[1:] {
		if v, ok := strings.CutPrefix(a, "-test.bench="); ok && v != "" && v != "^$" {
			return true
		}
	}
	return false
}
