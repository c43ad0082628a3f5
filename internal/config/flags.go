package config

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/spf13/pflag"
)

// Flags binds every run option to a flag set and remembers the values, so
// that [Flags.Apply] can lay the ones the user set over a file's values.
type Flags struct {
	fs  *pflag.FlagSet
	raw Raw
	// ConfigFile is the -c/--config value.
	ConfigFile string
}

// BindFlags defines baton's run options on fs.
func BindFlags(fs *pflag.FlagSet) *Flags {
	f := &Flags{fs: fs}
	r := &f.raw
	fs.StringVarP(&f.ConfigFile, "config", "c", "", "TOML config `FILE`; flags override it")
	fs.StringVar(&r.Name, "name", "", "name of this master for client commands (default: base name of COMMAND)")
	fs.IntVarP(&r.Workers, "workers", "w", 0, fmt.Sprintf("number of workers, 1..%d (default: number of CPUs)", MaxWorkers))
	fs.StringArrayVarP(&r.Listen, "listen", "l", nil, "`[NAME=]ADDR` to listen on: HOST:PORT, :PORT, [::1]:PORT, unix:/path (repeatable)")
	fs.StringVar(&r.ListenMode, "listen-mode", "", "permissions of unix: listen sockets, octal `MODE` such as 0660 (default: from the umask)")
	fs.StringVar(&r.Mode, "mode", "", "how workers get sockets: inherit|proxy (default inherit)")
	fs.StringVar(&r.Proxy, "proxy", "", "proxy mode only: tcp|http (default tcp)")
	fs.StringVar(&r.PortEnv, "port-env", "", "proxy mode only: variable carrying the worker's port (default PORT)")
	fs.StringVar(&r.DrainTimeout, "drain-timeout", "", "proxy mode only: wait this long for a leaving worker's connections or requests before the stop signal (default 5s)")
	fs.StringVar(&r.ProxyProtocol, "proxy-protocol", "", "proxy tcp only: send a PROXY protocol header, v1|v2 (default off)")
	fs.StringVar(&r.Steer, "steer", "", "proxy tcp only: auto hands new connections to the workers' listeners in the kernel where it can (root, Linux 5.9+), off proxies every one, auto|off (default auto)")
	fs.StringVar(&r.Ready, "ready", "", "when a worker is ready: notify|output:REGEX|tcp|http:PATH|delay:DUR (default notify; tcp in proxy mode)")
	fs.StringVar(&r.ReadyTimeout, "ready-timeout", "", "a worker not ready by then has failed (default 60s)")
	fs.StringVar(&r.StopSignal, "stop-signal", "", "signal that drains a worker: TERM, INT, QUIT, ... (default TERM)")
	fs.StringVar(&r.StopTimeout, "stop-timeout", "", "then SIGKILL to the worker's process group (default 30s)")
	fs.IntVar(&r.Parallel, "parallel", 0, "slots replaced at once in a rollout (default 1)")
	fs.StringVar(&r.Strategy, "strategy", "", "rollout strategy: surge|replace (default surge)")
	fs.StringArrayVar(&r.Watch, "watch", nil, "`PATH` whose change starts a rollout (repeatable)")
	fs.StringVar(&r.Compat, "compat", "", "`FILE` holding the compatibility token")
	fs.StringVar(&r.Control, "control", "", "control socket `PATH` (default: per-user runtime dir)")
	fs.StringVar(&r.Admin, "admin", "", "HTTP `ADDR` for /metrics, /healthz, /readyz")
	fs.StringVar(&r.LogFormat, "log-format", "", "text|json (default text)")
	fs.IntVar(&r.LogLines, "log-lines", 0, "recent output lines the master keeps for `baton logs` (default 1000)")
	fs.StringArrayVar(&r.Env, "env", nil, "`KEY=VAL` added to the workers' environment (repeatable)")
	fs.StringVar(&r.Dir, "dir", "", "workers' working `DIR`")
	fs.StringVar(&r.User, "user", "", "workers run as this user")
	fs.StringVar(&r.Group, "group", "", "workers run as this group")
	fs.StringVar(&r.Pidfile, "pidfile", "", "write the master's pid to `PATH`")
	fs.StringVar(&r.ShutdownDelay, "shutdown-delay", "", "on stop, /readyz fails this long before draining")
	bindLimits(fs, r)
	return f
}

// Apply returns base with every flag the user set laid over it, and the
// command (args after --) when one was given.
func (f *Flags) Apply(base Raw, command []string) Raw {
	out := base
	out.origin = map[string]string{}
	for k, v := range base.origin {
		out.origin[k] = v
	}
	f.fs.Visit(func(fl *pflag.Flag) {
		key := strings.ReplaceAll(fl.Name, "-", "_")
		if key == "config" {
			return
		}
		copyField(&out, &f.raw, key)
		out.setOrigin(key, fromFlag)
	})
	if len(command) > 0 {
		out.Command = command
		out.setOrigin("command", fromFlag)
	}
	return out
}

// copyField copies one key's value from src to dst, finding the field by
// its TOML tag so that flags and file keys cannot drift apart.
func copyField(dst, src *Raw, key string) {
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	t := d.Type()
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ","); name == key {
			d.Field(i).Set(s.Field(i))
			return
		}
	}
}
