package master

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/config"
	"github.com/batonhq/baton/internal/wire"
)

// UpgradeCheckArg is the subcommand an old master runs the new binary
// with, before anything changes, to learn whether it can take over.
const UpgradeCheckArg = "upgrade-check"

// upgradeCheckLimit bounds how long the new binary's check may take; a
// shorter --ready-timeout bounds it too.
const upgradeCheckLimit = 15 * time.Second

// checkOutputLines is how many of the check's last output lines a failed
// upgrade reports.
const checkOutputLines = 3

// CheckUpgrade reports, without changing anything, what would stop a
// master with cfg from taking over from the master that wrote record (a
// hand-over record as in wire.EnvHandover): a record format this binary
// does not read, a changed control socket, a new --listen address it could
// not bind. `baton upgrade-check` runs it in the new binary.
func CheckUpgrade(cfg config.Config, record string) []error {
	h, err := wire.ParseHandover(record)
	if err != nil {
		return []error{err}
	}
	var problems []error
	if path, err := controlPath(cfg); err != nil {
		problems = append(problems, err)
	} else if path != h.Control {
		problems = append(problems, fmt.Errorf("the control socket changed (%s → %s: --name or --control): that needs a full restart", h.Control, path))
	}
	if a := cfg.Admin; a.On() && (h.Admin == nil || h.Admin.Network != a.Network || h.Admin.Address != a.Address) {
		if err := probeListen(adminListen(a)); err != nil {
			problems = append(problems, fmt.Errorf("--admin (new in this configuration): %w", err))
		}
	}
	for _, l := range cfg.Listen {
		if findPassed(l, h.Sockets) >= 0 {
			continue
		}
		if err := probeListen(l); err != nil {
			problems = append(problems, fmt.Errorf("--listen (new in this configuration): %w", err))
		}
	}
	return problems
}

// checkNew runs the new binary as `upgrade-check` with the same arguments
// and the hand-over record it would get, and fails with its own words
// when it says it cannot take over (or does not answer in time).
func (m *Master) checkNew(ctx context.Context, record string) error {
	args, err := checkArgs(m.args)
	if err != nil {
		return err
	}
	limit := min(m.cfg.ReadyTimeout, upgradeCheckLimit)
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, m.exe, args[1:]...)
	cmd.Args[0] = args[0]
	cmd.Dir, cmd.Stdout, cmd.Stderr = m.cwd, &out, &out
	cmd.Env = append(childEnv(), wire.EnvHandover+"="+record)
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("the new binary %s did not answer `%s` within %s: killed", m.exe, UpgradeCheckArg, limit)
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("the new binary cannot take over (`%s` exit %d): %s", UpgradeCheckArg, exit.ExitCode(), lastLines(out.String(), checkOutputLines))
	}
	return fmt.Errorf("the new binary cannot take over: run %s %s: %w", m.exe, UpgradeCheckArg, err)
}

// checkArgs turns the master's own command line (`baton [...] run ARGS`)
// into the check's (`baton [...] upgrade-check ARGS`).
func checkArgs(args []string) ([]string, error) {
	for i := 1; i < len(args); i++ {
		if args[i] == "run" {
			out := append([]string{}, args...)
			out[i] = UpgradeCheckArg
			return out, nil
		}
	}
	return nil, fmt.Errorf("upgrade: the master's command line %q has no `run`", strings.Join(args, " "))
}

// childEnv is the environment a new master (or its check) starts with:
// this master's, less what describes this process alone.
func childEnv() []string {
	return wire.Without(os.Environ(), wire.EnvHandover, wire.EnvListenFDs, wire.EnvListenPID, wire.EnvListenFDNames)
}

// lastLines is the last n non-empty lines of s, joined by " | ".
func lastLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return "(no output)"
	}
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}
