package proc

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/wire"
	"golang.org/x/sys/unix"
)

// ShimArg is the hidden first argument that makes the baton binary act as
// the exec shim: `baton __exec -- COMMAND ARGS...`.
const ShimArg = "__exec"

// ShimMemcgEnv names the variable through which the shim learns the
// cgroup.procs of the worker's v1 memory cgroup (hybrid hosts): it moves
// itself there before it execs the command. It is removed from the
// command's environment.
const ShimMemcgEnv = "BATON_SHIM_MEMCG"

// ShimArgs returns the argv that runs command through the shim.
func ShimArgs(command []string) []string {
	return append([]string{"baton", ShimArg, "--"}, command...)
}

// ExecShim runs in the freshly forked worker process: when sockets are being
// passed it sets LISTEN_PID to this process's pid (which is the worker's pid,
// since exec keeps it), then replaces itself with the command. It returns
// only on failure.
func ExecShim(args []string) error {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return errors.New("exec shim: no command given")
	}
	env := wire.WithListenPID(os.Environ(), os.Getpid())
	if procs := os.Getenv(ShimMemcgEnv); procs != "" {
		// Before the command runs, so all it allocates is charged there.
		_ = os.WriteFile(procs, []byte(strconv.Itoa(os.Getpid())), 0)
		env = wire.Without(env, ShimMemcgEnv)
	}
	// The working directory is already the worker's: a relative path
	// resolves against it, as the preflight check resolved it.
	path, err := config.LookPath(args[0], "", env)
	if err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	if err := unix.Exec(path, args, env); err != nil {
		return fmt.Errorf("exec %s: %w", path, err)
	}
	return nil
}
