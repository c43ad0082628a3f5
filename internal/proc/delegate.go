package proc

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// masterLeaf is the cgroup a master moves itself into, inside a cgroup
// delegated to it, so that the delegated cgroup holds no process and may
// hand its controllers down to the worker cgroups.
const masterLeaf = "baton-master"

// workerBase picks the cgroup below which the master makes its own
// (baton-NAME-PID): the master's own cgroup; or, when that cgroup was
// delegated to it by systemd (Delegate=yes, marked with the
// trusted.delegate or user.delegate attribute) and offers the memory
// controller, the same cgroup after the master has moved itself into
// the leaf baton-master. Cgroup v2's rule that a cgroup with processes
// cannot enable controllers for its children ("no internal processes")
// would otherwise leave the worker cgroups without memory.current. A
// master started there by an upgrade is in that leaf already.
func workerBase(v2 hierarchy) string {
	own := v2.dir()
	if filepath.Base(own) == masterLeaf {
		return filepath.Dir(own)
	}
	if v2.own == "/" || !delegated(own) || !offers(own, "memory") {
		return own
	}
	if procs := cgroupPIDs(own); len(procs) != 1 || procs[0] != os.Getpid() {
		return own // others share it (an init, a wrapper script): leave them be
	}
	leaf := filepath.Join(own, masterLeaf)
	if err := os.Mkdir(leaf, 0o755); err != nil && !os.IsExist(err) {
		return own
	}
	if err := os.WriteFile(filepath.Join(leaf, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
		_ = unix.Rmdir(leaf)
		return own
	}
	for _, ctl := range []string{"memory", "cpu"} {
		_ = os.WriteFile(filepath.Join(own, "cgroup.subtree_control"), []byte("+"+ctl), 0)
	}
	return own
}

// delegated reports whether systemd marked the cgroup as delegated.
func delegated(dir string) bool {
	buf := make([]byte, 8)
	for _, attr := range []string{"trusted.delegate", "user.delegate"} {
		if n, err := unix.Getxattr(dir, attr, buf); err == nil && strings.TrimSpace(string(buf[:n])) == "1" {
			return true
		}
	}
	return false
}

// offers reports whether a controller is available in the cgroup.
func offers(dir, controller string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	return err == nil && slices.Contains(strings.Fields(string(b)), controller)
}
