package e2etest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The binaries Main builds once per test process, before any test runs;
// tests only read them.
var (
	// BatonBin is cmd/baton, built with the race detector (the master's
	// goroutines are checked too) unless the run asks for benchmarks,
	// which measure the binary users run.
	BatonBin string
	// HelloBin is the example server, examples/hello.
	HelloBin string
)

// binDir is the directory Main builds into; moduleDir is the module's root.
var binDir, moduleDir string

// Main is the whole TestMain of an end-to-end test package: it builds
// BatonBin and HelloBin into a temporary directory, runs the package's
// tests, removes the directory and exits with the tests' code.
func Main(m *testing.M) {
	if err := build(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if binDir != "" {
			os.RemoveAll(binDir)
		}
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

// build finds the module's root and builds baton and hello from it.
func build() error {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		return fmt.Errorf("find the module's go.mod with go env GOMOD: %v %s", err, out)
	}
	moduleDir = filepath.Dir(strings.TrimSpace(string(out)))
	if binDir, err = os.MkdirTemp("", "baton-e2e-"); err != nil {
		return fmt.Errorf("make the binaries' directory: %w", err)
	}
	_ = os.Chmod(binDir, 0o755) // other users run the binaries too (TestControlSocketRefusesOtherUsers)
	BatonBin = filepath.Join(binDir, "baton")
	HelloBin = filepath.Join(binDir, "hello")
	batonArgs := []string{"build", "-o", BatonBin}
	if !benchmarking() {
		batonArgs = append(batonArgs, "-race")
	}
	builds := [][]string{
		append(batonArgs, filepath.Join(moduleDir, "cmd", "baton")),
		{"build", "-o", HelloBin, filepath.Join(moduleDir, "examples", "hello")},
	}
	for _, args := range builds {
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
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

// ModulePath is the absolute path of elems joined under the module's root
// (README.md, contrib/systemd, examples/...), whichever e2e package asks.
func ModulePath(elems ...string) string {
	return filepath.Join(append([]string{moduleDir}, elems...)...)
}

// builtPrograms remembers what BuildProgram built, by name.
var builtPrograms sync.Map // name -> *builtProgram

type builtProgram struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// BuildProgram builds the Go package in pkgDir (relative to the test
// package's directory, as the go command takes it) into name beside
// BatonBin, once per test process; later calls return the same path. A
// failed build fails the test.
func BuildProgram(t testing.TB, name, pkgDir string) string {
	t.Helper()
	v, _ := builtPrograms.LoadOrStore(name, &builtProgram{})
	p := v.(*builtProgram)
	p.once.Do(func() {
		p.path = filepath.Join(binDir, name)
		p.out, p.err = exec.Command("go", "build", "-o", p.path, pkgDir).CombinedOutput()
	})
	if p.err != nil {
		t.Fatalf("build %s from %s: %v\n%s", name, pkgDir, p.err, p.out)
	}
	return p.path
}
