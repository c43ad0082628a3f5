package config

import (
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func resolveRunAs(t *testing.T, args ...string) (RunAs, []error) {
	t.Helper()
	r := Raw{Listen: []string{"127.0.0.1:0"}, Command: []string{"sh"}}
	for i := 0; i+1 < len(args); i += 2 {
		switch args[i] {
		case "user":
			r.User = args[i+1]
		case "group":
			r.Group = args[i+1]
		case "dir":
			r.Dir = args[i+1]
		}
	}
	c, errs := Resolve(r, "")
	return c.RunAs, errs
}

func needRootAndNobody(t *testing.T) *user.User {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("not root: --user needs a root master (CI runs as root)")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody on this host")
	}
	return u
}

func TestUnknownUserAndGroupAreNamed(t *testing.T) {
	_, errs := resolveRunAs(t, "user", "no-such-user-xyz")
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `--user: unknown user "no-such-user-xyz"`) {
		t.Fatalf("%v", errs)
	}
	_, errs = resolveRunAs(t, "group", "no-such-group-xyz")
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `--group: unknown group "no-such-group-xyz"`) {
		t.Fatalf("%v", errs)
	}
}

func TestUserGetsItsIdsGroupsAndHome(t *testing.T) {
	u := needRootAndNobody(t)
	r, errs := resolveRunAs(t, "user", "nobody", "dir", "/")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if !r.Drop || r.Name != "nobody" || r.Home != u.HomeDir || len(r.Groups) == 0 {
		t.Fatalf("%+v", r)
	}
	if env := strings.Join(r.Env(), " "); env != "HOME="+u.HomeDir+" USER=nobody LOGNAME=nobody" {
		t.Fatalf("env %q", env)
	}
}

// --group alone clears the supplementary groups; with --user it takes
// the primary group's place in them.
func TestGroupOverridesThePrimaryGroup(t *testing.T) {
	needRootAndNobody(t)
	r, errs := resolveRunAs(t, "group", "12345")
	if len(errs) > 0 || r.GID != 12345 || r.UID != 0 || r.Groups == nil || len(r.Groups) != 0 || r.Env() != nil {
		t.Fatalf("%+v %v", r, errs)
	}
	r, errs = resolveRunAs(t, "user", "nobody", "group", "12345", "dir", "/")
	if len(errs) > 0 || r.GID != 12345 || r.Groups[0] != 12345 {
		t.Fatalf("%+v %v", r, errs)
	}
	if slices.Contains(r.Groups[1:], 12345) {
		t.Fatalf("gid twice in %v", r.Groups)
	}
}

func TestNumericUserWithoutEntry(t *testing.T) {
	needRootAndNobody(t)
	r, errs := resolveRunAs(t, "user", "4000123", "dir", "/")
	if len(errs) > 0 || r.UID != 4000123 || r.GID != 4000123 || len(r.Groups) != 0 || r.Home != "/" {
		t.Fatalf("%+v %v", r, errs)
	}
}

func TestDirTheUserCannotEnterIsRefused(t *testing.T) {
	needRootAndNobody(t)
	private := filepath.Join(t.TempDir(), "app")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	_, errs := resolveRunAs(t, "user", "nobody", "dir", private)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "--dir:") || !strings.Contains(errs[0].Error(), "not accessible to user nobody") {
		t.Fatalf("%v", errs)
	}
}

func TestNonRootMasterCannotChangeUser(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("runs as root: covered by the e2e test that runs baton as nobody")
	}
	_, errs := resolveRunAs(t, "user", "root")
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "only a master running as root") {
		t.Fatalf("%v", errs)
	}
}
