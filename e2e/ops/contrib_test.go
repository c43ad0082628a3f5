package ops

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/e2etest"
)

// The shipped systemd units pass systemd-analyze verify with nothing to
// say (it exits 0 even on unknown keys, so any output fails the test).
func TestSystemdUnitsVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not found: install the Debian package systemd (apt-get install -y systemd)")
	}
	dir := t.TempDir()
	for _, name := range []string{"baton@.service", "baton@.socket"} {
		b, err := os.ReadFile(e2etest.ModulePath("contrib", "systemd", name))
		if err != nil {
			t.Fatal(err)
		}
		body := strings.ReplaceAll(string(b), "/usr/local/bin/baton", e2etest.BatonBin)
		if err := os.WriteFile(filepath.Join(dir, strings.Replace(name, "@", "@test", 1)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	verify := func(t *testing.T) {
		t.Helper()
		cmd := exec.Command(analyze, "verify", "--man=no", "baton@test.service", "baton@test.socket")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
		}
	}
	t.Run("notify", verify)
	t.Run("notify-reload drop-in", func(t *testing.T) {
		if v := systemdVersion(t, analyze); v < 253 {
			t.Skipf("systemd %d here: Type=notify-reload needs systemd 253 or later", v)
		}
		drop := filepath.Join(dir, "baton@test.service.d")
		if err := os.MkdirAll(drop, 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(e2etest.ModulePath("contrib", "systemd", "notify-reload.conf"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(drop, "notify-reload.conf"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		verify(t)
	})
}

func systemdVersion(t *testing.T, analyze string) int {
	out, err := exec.Command(analyze, "--version").Output()
	if err != nil {
		t.Fatalf("systemd-analyze --version: %v", err)
	}
	m := regexp.MustCompile(`systemd (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze --version: %q", out)
	}
	v, _ := strconv.Atoi(string(m[1]))
	return v
}
