package proc

import (
	"fmt"
	"os"
	"syscall"

	"github.com/batonhq/baton/internal/config"
)

// credential is what the worker's fork sets before it execs baton's shim
// (setgroups, setgid, setuid, then the chdir to --dir, so --dir is entered
// as the user); nil keeps the master's.
func credential(r config.RunAs) *syscall.Credential {
	if !r.Drop {
		return nil
	}
	return &syscall.Credential{Uid: r.UID, Gid: r.GID, Groups: append([]uint32{}, r.Groups...)}
}

// shareNotify gives a worker that runs as another user its notify socket:
// the socket file becomes its user's, mode 0600, in a notify directory
// that others may enter but not list (see NotifyDir).
func (o *OS) shareNotify(path string) error {
	if !o.RunAs.Drop {
		return nil
	}
	if err := os.Chown(path, int(o.RunAs.UID), int(o.RunAs.GID)); err != nil {
		return fmt.Errorf("notify socket %s: give it to uid %d: %w", path, o.RunAs.UID, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("notify socket %s: %w", path, err)
	}
	return nil
}
