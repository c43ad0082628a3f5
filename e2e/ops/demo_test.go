package ops

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/e2etest"
)

// `baton demo` runs the whole promise by itself and exits 0 only when no
// request failed and every event did what it should.
func TestDemoRunsAndReports(t *testing.T) {
	html := filepath.Join(t.TempDir(), "report.html")
	stdout, stderr, code := e2etest.RunBaton(t, append(os.Environ(), "XDG_RUNTIME_DIR="+e2etest.RuntimeDir(t)), "demo", "--duration", "6s", "--workers", "2", "--html", html)
	if code != 0 {
		t.Fatalf("baton demo: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"0 failed", "master upgrade", "broken deploy", "kill -9", "--proxy http rollout", "timeline", "baton demo: 0 failed requests"} {
		if !strings.Contains(stdout, want) {
			t.Fatalf("the demo's output lacks %q:\n%s", want, stdout)
		}
	}
	b, err := os.ReadFile(html)
	if err != nil || !strings.Contains(string(b), "<svg") || !strings.Contains(string(b), "master upgrade") {
		t.Fatalf("the HTML report: %v\n%.400s", err, b)
	}
	t.Logf("demo:\n%s", stdout)
}
