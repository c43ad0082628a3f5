package fuzzing

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// defaultFuzzTime is how much each target fuzzes in the default test run:
// a count of inputs rather than a duration, so that a loaded machine does
// the same work, only slower, and no fuzz run ends on its deadline in the
// middle of an input (go test -fuzz then reports "context deadline
// exceeded" as a failure, seen here under load). BATON_FUZZTIME (a Go
// duration such as 1m, or Nx for N inputs) changes it.
const defaultFuzzTime = "5000x"

// required names, for each kind of untrusted input the reliability issue
// lists, the target that must fuzz it. A kind whose target is renamed or
// removed fails the test.
var required = map[string]string{
	"config file parser":                          "FuzzConfigFile",
	"--listen address parser":                     "FuzzParseListen",
	"durations, readiness and signals":            "FuzzDurationsAndReadiness",
	"the whole command line of baton run":         "FuzzCommandLine",
	"notify datagrams":                            "FuzzParseNotify",
	"hand-over record decoder":                    "FuzzParseHandover",
	"LISTEN_* values":                             "FuzzParseActivation",
	"control API requests (every route)":          "FuzzControlRequests",
	"control API logs query":                      "FuzzLogsQuery",
	"control API scale, reload and stop decoders": "FuzzControlDecoders",
	"--proxy http requests from clients":          "FuzzHTTPFront",
}

// target is one fuzz function and the directory of its package.
type target struct{ name, dir string }

func TestFuzzTargetsRunBriefly(t *testing.T) {
	if testing.Short() {
		t.Skip("fuzzing is skipped with -short")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to fuzz with")
	}
	root := moduleRoot(t)
	targets := findTargets(t, root)
	names := map[string]bool{}
	for _, tg := range targets {
		names[tg.name] = true
	}
	for kind, name := range required {
		if !names[name] {
			t.Errorf("no fuzz target %s for %s", name, kind)
		}
	}
	fuzzTime := defaultFuzzTime
	if v := os.Getenv("BATON_FUZZTIME"); v != "" {
		fuzzTime = v
	}
	for _, tg := range targets {
		rel, _ := filepath.Rel(root, tg.dir)
		t.Run(tg.name, func(t *testing.T) { fuzzOne(t, tg, rel, fuzzTime) })
	}
}

// fuzzOne runs one target for fuzzTime and fails with the path of any
// input it found failing (go test writes it under testdata/fuzz/NAME).
func fuzzOne(t *testing.T, tg target, rel, fuzzTime string) {
	corpus := filepath.Join(tg.dir, "testdata", "fuzz", tg.name)
	before := listDir(corpus)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-run=^$", "-fuzz=^"+tg.name+"$", "-fuzztime="+fuzzTime,
		"-fuzzminimizetime=10s", "-parallel=2", ".")
	cmd.Dir = tg.dir
	start := time.Now()
	out, err := cmd.CombinedOutput()
	var found []string
	for _, f := range listDir(corpus) {
		if !slices.Contains(before, f) {
			found = append(found, filepath.Join(rel, "testdata", "fuzz", tg.name, f))
		}
	}
	if m := regexp.MustCompile(`Failing input written to (\S+)`).FindSubmatch(out); m != nil && len(found) == 0 {
		found = append(found, filepath.Join(rel, string(m[1])))
	}
	switch {
	case len(found) > 0:
		t.Fatalf("%s found a failing input: %s (replay: go test -run '%s/%s' ./%s)\n%s",
			tg.name, strings.Join(found, ", "), tg.name, filepath.Base(found[0]), rel, out)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		t.Fatalf("%s did not finish within 5m:\n%s", tg.name, out)
	case err != nil:
		t.Fatalf("go test -fuzz %s in ./%s: %v\n%s", tg.name, rel, err, out)
	}
	t.Logf("./%s %s: fuzzed %s (%s in all, build included)", rel, tg.name, fuzzTime, time.Since(start).Round(time.Millisecond))
}

// findTargets parses every _test.go file under root (testdata, hidden
// and vendored directories aside) and returns its FuzzX(*testing.F)
// functions, sorted by name.
func findTargets(t *testing.T, root string) []target {
	t.Helper()
	var out []target
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "vendor" || name == "node_modules" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok && isFuzzTarget(fn) {
				out = append(out, target{name: fn.Name.Name, dir: filepath.Dir(path)})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("find fuzz targets: %v", err)
	}
	slices.SortFunc(out, func(a, b target) int { return strings.Compare(a.name, b.name) })
	return out
}

// isFuzzTarget reports whether fn is func FuzzX(f *testing.F), as go test
// sees one: no receiver, a name Fuzz or Fuzz followed by a non-lowercase
// rune, one parameter of type *testing.F.
func isFuzzTarget(fn *ast.FuncDecl) bool {
	name := fn.Name.Name
	if fn.Recv != nil || !strings.HasPrefix(name, "Fuzz") {
		return false
	}
	if rest := name[len("Fuzz"):]; rest != "" && rest[0] >= 'a' && rest[0] <= 'z' {
		return false
	}
	params := fn.Type.Params.List
	if len(params) != 1 || len(params[0].Names) > 1 {
		return false
	}
	star, ok := params[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "F"
}

// moduleRoot is the directory holding go.mod, above the test's directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// listDir names the entries of dir, or none when it does not exist.
func listDir(dir string) []string {
	entries, _ := os.ReadDir(dir)
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
