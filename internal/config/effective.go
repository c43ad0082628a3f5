package config

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Raw renders the validated configuration back as the file's keys, with
// every default filled in: what `baton check` prints, and what `baton run
// -c` accepts as it is.
func (c Config) Raw() Raw {
	r := Raw{
		Name: c.Name, Workers: c.Workers, Mode: c.Mode.String(), Ready: c.Ready.String(),
		ReadyTimeout: c.ReadyTimeout.String(), StopSignal: signalName(c),
		StopTimeout: c.StopTimeout.String(), Parallel: c.Parallel, Strategy: c.Strategy.String(),
		Watch: c.Watch, Compat: c.Compat, Control: c.Control, LogFormat: c.LogFormat, LogLines: c.LogLines,
		Env: c.Env, Dir: c.Dir, User: c.RunAs.User, Group: c.RunAs.Group, Pidfile: c.Pidfile, Command: c.Command,
	}
	if c.Admin.On() {
		r.Admin = c.Admin.String()
	}
	if c.ShutdownDelay > 0 {
		r.ShutdownDelay = c.ShutdownDelay.String()
	}
	c.Limits.raw(&r)
	if c.ListenMode != 0 {
		r.ListenMode = fmt.Sprintf("%04o", uint32(c.ListenMode))
	}
	if c.Mode == ModeProxy {
		r.Proxy, r.PortEnv, r.DrainTimeout = c.Proxy.String(), c.PortEnv, c.DrainTimeout.String()
		if c.ProxyProtocol > 0 {
			r.ProxyProtocol = "v" + strconv.Itoa(c.ProxyProtocol)
		}
		if c.Proxy == ProxyTCP {
			r.Steer = "auto"
			if !c.Steer {
				r.Steer = "off"
			}
		}
	}
	for _, l := range c.Listen {
		r.Listen = append(r.Listen, l.String())
	}
	return r
}

// signalName spells the stop signal as --stop-signal takes it: TERM, or a
// number when it has no name.
func signalName(c Config) string {
	if name := unix.SignalName(c.StopSignal); name != "" {
		return strings.TrimPrefix(name, "SIG")
	}
	return strconv.Itoa(int(c.StopSignal))
}
