package sockets

import (
	"os"
	"strconv"

	"github.com/batonhq/baton/internal/wire"
)

// Files returns the descriptors in order, for exec.Cmd.ExtraFiles: the
// first lands on fd 3.
func Files(socks []*Socket) []*os.File {
	out := make([]*os.File, len(socks))
	for i, s := range socks {
		out[i] = s.File
	}
	return out
}

// Env returns LISTEN_FDS and LISTEN_FDNAMES for socks. LISTEN_PID must be
// the worker's own pid, which only the worker knows: the exec shim
// (internal/proc) adds it just before it execs the command.
func Env(socks []*Socket) []string {
	if len(socks) == 0 {
		return nil
	}
	names := make([]string, len(socks))
	for i, s := range socks {
		names[i] = s.Name
	}
	return []string{
		wire.EnvListenFDs + "=" + strconv.Itoa(len(socks)),
		wire.EnvListenFDNames + "=" + wire.JoinNames(names),
	}
}
