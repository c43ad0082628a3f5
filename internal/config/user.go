package config

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// RunAs is who the workers run as (--user, --group). The zero value keeps
// the master's own user and groups.
type RunAs struct {
	User  string // --user as given ("" when not)
	Group string // --group as given ("" when not)
	// Drop is set when the workers' credentials differ from the master's:
	// they get UID, GID and exactly Groups as supplementary groups.
	Drop   bool
	UID    uint32
	GID    uint32
	Groups []uint32
	// Identity: with --user, the worker's HOME, USER and LOGNAME (as
	// systemd sets them with User=).
	Name, Home string
}

// On reports whether --user or --group was given.
func (r RunAs) On() bool { return r.User != "" || r.Group != "" }

// Env is what the worker's environment gets for its identity: HOME, USER
// and LOGNAME of --user; nothing without --user.
func (r RunAs) Env() []string {
	if r.User == "" {
		return nil
	}
	return []string{"HOME=" + r.Home, "USER=" + r.Name, "LOGNAME=" + r.Name}
}

// String renders it for messages: "nobody (uid 65534, gid 65534)".
func (r RunAs) String() string {
	name := r.Name
	if name == "" {
		name = "uid " + strconv.Itoa(int(r.UID))
	}
	return fmt.Sprintf("%s (uid %d, gid %d)", name, r.UID, r.GID)
}

// runAs resolves --user and --group against the user database, refuses
// what this master cannot do, and checks that the user can reach --dir
// and the command.
func (v *validator) runAs(u, g, dir string, cmd, env []string) RunAs {
	r := RunAs{User: u, Group: g, UID: uint32(os.Geteuid()), GID: uint32(os.Getegid())}
	if !r.On() {
		return r
	}
	ok := true
	if u != "" {
		ok = v.lookupUser(&r)
	}
	if g != "" {
		gid, err := lookupGroup(g)
		if err != nil {
			v.fail("group", "%v", err)
			return RunAs{}
		}
		r.GID = gid
		if u == "" {
			r.Groups = []uint32{} // --group alone: supplementary groups cleared
		} else {
			r.Groups = withPrimary(r.Groups, r.GID)
		}
	}
	if !ok || !v.mayBecome(&r) {
		return RunAs{}
	}
	if r.Drop {
		v.reachable(r, dir, cmd, env)
	}
	return r
}

// lookupUser fills in the user's ids, groups and identity. A number that
// names no user is taken as a uid (gid the same, no supplementary
// groups), as containers often run.
func (v *validator) lookupUser(r *RunAs) bool {
	usr, err := user.Lookup(r.User)
	if err != nil {
		if id, nerr := strconv.ParseUint(r.User, 10, 32); nerr == nil {
			if usr, err = user.LookupId(r.User); err != nil {
				r.UID, r.GID, r.Groups, r.Name, r.Home = uint32(id), uint32(id), []uint32{}, r.User, "/"
				return true
			}
		}
	}
	if err != nil {
		v.fail("user", "unknown user %q: no such user in the user database (/etc/passwd, NSS)", r.User)
		return false
	}
	uid, _ := strconv.ParseUint(usr.Uid, 10, 32)
	gid, _ := strconv.ParseUint(usr.Gid, 10, 32)
	r.UID, r.GID, r.Name, r.Home = uint32(uid), uint32(gid), usr.Username, usr.HomeDir
	r.Groups = []uint32{}
	ids, err := usr.GroupIds()
	if err != nil {
		v.fail("user", "%q: read its groups: %v", r.User, err)
		return false
	}
	for _, s := range ids {
		if id, err := strconv.ParseUint(s, 10, 32); err == nil {
			r.Groups = append(r.Groups, uint32(id))
		}
	}
	return true
}

// withPrimary puts gid in place of the user's own primary group in the
// supplementary list (what initgroups(user, gid) does with --group).
func withPrimary(groups []uint32, gid uint32) []uint32 {
	out := []uint32{gid}
	for _, g := range groups {
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

func lookupGroup(g string) (uint32, error) {
	grp, err := user.LookupGroup(g)
	if err == nil {
		id, _ := strconv.ParseUint(grp.Gid, 10, 32)
		return uint32(id), nil
	}
	if id, nerr := strconv.ParseUint(g, 10, 32); nerr == nil {
		return uint32(id), nil // a gid needs no name
	}
	return 0, fmt.Errorf("unknown group %q: no such group in the group database (/etc/group, NSS)", g)
}

// mayBecome decides whether the workers' credentials change, and refuses
// a change only root can make.
func (v *validator) mayBecome(r *RunAs) bool {
	euid, egid := uint32(os.Geteuid()), uint32(os.Getegid())
	if euid == 0 {
		r.Drop = true
		return true
	}
	if r.UID == euid && r.GID == egid {
		return true // itself: nothing to change
	}
	key, what := "user", r.User
	if r.UID == euid {
		key, what = "group", r.Group
	}
	v.fail(key, "%q: only a master running as root can start workers as another user or group (this master runs as uid %d, gid %d): start baton as root, or drop --%s",
		what, euid, egid, key)
	return false
}

// reachable checks, by the permission bits, that the workers' user can
// enter --dir and execute the command.
func (v *validator) reachable(r RunAs, dir string, cmd, env []string) {
	check, what := dir, ""
	if dir == "" {
		check, _ = os.Getwd()
		what = " (the master's working directory, where workers start without --dir)"
	}
	if check != "" {
		if err := accessible(r, check, 0o1); err != nil {
			v.fail("dir", "%q%s is not accessible to user %s: %v", check, what, r, err)
		}
	}
	if len(cmd) == 0 {
		return
	}
	p, err := LookPath(cmd[0], dir, env)
	if err != nil {
		return // reported by executable
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	if err := accessible(r, p, 0o1); err != nil {
		v.problems = append(v.problems, fmt.Errorf("command: %q is not executable by user %s: %v", cmd[0], r, err))
	}
}

// accessible checks that r may search every directory on the way to path
// and has perm (0o1 execute) on path itself. Root may do anything but
// execute a file without any execute bit; ACLs are not considered.
func accessible(r RunAs, path string, perm os.FileMode) error {
	path, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	for p := path; ; p = filepath.Dir(p) {
		want := os.FileMode(0o1)
		if p == path {
			want = perm
		}
		if err := allowed(r, p, want); err != nil {
			return err
		}
		if p == "/" {
			return nil
		}
	}
}

func allowed(r RunAs, p string, want os.FileMode) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return errors.New("cannot read its owner")
	}
	mode := st.Mode().Perm()
	var bits os.FileMode
	switch {
	case r.UID == 0:
		bits = (mode | mode>>3 | mode>>6) & 0o7
		if st.IsDir() {
			bits = 0o7
		}
	case sys.Uid == r.UID:
		bits = mode >> 6 & 0o7
	case sys.Gid == r.GID || slices.Contains(r.Groups, sys.Gid):
		bits = mode >> 3 & 0o7
	default:
		bits = mode & 0o7
	}
	if bits&want != want {
		return fmt.Errorf("%s is mode %04o, owner uid %d, group gid %d", p, uint32(mode), sys.Uid, sys.Gid)
	}
	return nil
}
