package control

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Dir returns the per-user directory for control sockets, creating it with
// mode 0700: $XDG_RUNTIME_DIR/baton when XDG_RUNTIME_DIR is set, else
// /tmp/baton-UID. An existing directory owned by someone else, or open to
// others, is refused.
func Dir() (string, error) {
	dir := fmt.Sprintf("/tmp/baton-%d", os.Getuid())
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
		dir = filepath.Join(x, "baton")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create control directory: %w", err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return "", fmt.Errorf("check control directory: %w", err)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !st.IsDir() || !ok || int(sys.Uid) != os.Getuid() {
		return "", fmt.Errorf("control directory %s is not a directory owned by uid %d", dir, os.Getuid())
	}
	if st.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return "", fmt.Errorf("control directory %s: set mode 0700: %w", dir, err)
		}
	}
	return dir, nil
}

// SocketPath is where the master called name listens in dir.
func SocketPath(dir, name string) string { return filepath.Join(dir, name+".sock") }

// ErrNoMaster means no running master could be found.
var ErrNoMaster = errors.New("no baton master found")

// Find resolves which control socket a client command talks to: the
// explicit path, else the named master, else $BATON_CONTROL, else the only
// live master of this user.
func Find(path, name string) (string, error) {
	if path != "" {
		return path, notASocket(path)
	}
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	if name != "" {
		p := SocketPath(dir, name)
		if !alive(p) {
			return "", fmt.Errorf("%w named %q (no live socket at %s)", ErrNoMaster, name, p)
		}
		return p, nil
	}
	if env := os.Getenv("BATON_CONTROL"); env != "" {
		return env, notASocket(env)
	}
	live := Live(dir)
	switch len(live) {
	case 0:
		return "", fmt.Errorf("%w in %s: start one with `baton run`, or pass --name or --control", ErrNoMaster, dir)
	case 1:
		return SocketPath(dir, live[0]), nil
	}
	return "", fmt.Errorf("%w: %d masters run (%s): choose one with --name", ErrAmbiguous, len(live), strings.Join(live, ", "))
}

// notASocket says, for a control path that exists but is no socket (a
// file, a directory: a wrong --control or BATON_CONTROL), that no master
// can be there; nil for a socket or nothing at all, which connecting
// tells about.
func notASocket(path string) error {
	st, err := os.Stat(path)
	if err != nil || st.Mode().Type() == fs.ModeSocket {
		return nil
	}
	kind := "a regular file"
	if st.IsDir() {
		kind = "a directory"
	}
	return fmt.Errorf("%w at %s: it is %s, not a socket: give the master's control socket (its --control path)", ErrNoMaster, path, kind)
}

// ErrAmbiguous means several masters run and none was named.
var ErrAmbiguous = errors.New("more than one baton master")

// Live lists the names of masters with a live control socket in dir. Only
// NAME.sock files count: a master's lock file, NAME.sock.lock, is not one.
func Live(dir string) []string {
	matches, _ := filepath.Glob(filepath.Join(dir, "*.sock"))
	var out []string
	for _, m := range matches {
		if alive(m) {
			out = append(out, strings.TrimSuffix(filepath.Base(m), ".sock"))
		}
	}
	sort.Strings(out)
	return out
}

func alive(path string) bool {
	c, err := net.Dial("unix", path)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
