package e2etest

import (
	"os/exec"
	"strings"
	"testing"
)

// Only tests import the harness: it fails tests rather than returning
// errors, and reads the binaries its Main built.
func TestOnlyTestsImportTheHarness(t *testing.T) {
	const self = "github.com/batonhq/baton/internal/e2etest"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}: {{join .Imports " "}}`, "github.com/batonhq/baton/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ": ")
		for _, imp := range strings.Fields(imports) {
			if imp == self {
				t.Errorf("%s imports %s outside its tests", pkg, self)
			}
		}
	}
}
