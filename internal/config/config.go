package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Config is a validated, typed set of run options.
type Config struct {
	File         string // the TOML file read, if any
	Name         string
	Workers      int
	Listen       []Listen
	ListenMode   os.FileMode // of every unix: listen socket; 0: from the umask
	Mode         Mode
	Proxy        ProxyKind     // proxy mode only
	PortEnv      string        // proxy mode only: the variable carrying the private port
	DrainTimeout time.Duration // proxy mode only
	// ProxyProtocol is the PROXY protocol version sent to workers (1 or
	// 2; 0: none), proxy tcp only.
	ProxyProtocol int
	// Steer: proxy tcp hands new connections to the workers' own
	// listeners in the kernel (BPF sk_lookup) where it can; false with
	// --steer off.
	Steer         bool
	Ready         Readiness
	ReadyTimeout  time.Duration
	StopSignal    syscall.Signal
	StopTimeout   time.Duration
	Parallel      int
	Strategy      Strategy
	Watch         []string
	Compat        string
	Control       string
	LogFormat     string
	LogLines      int      // kept for `baton logs`
	Env           []string // KEY=VAL
	Dir           string
	RunAs         RunAs // --user, --group
	Pidfile       string
	Admin         Admin         // --admin; off when zero
	ShutdownDelay time.Duration // --shutdown-delay: /readyz fails this long before a stop drains
	Limits        Limits        // --watchdog, --max-memory, --max-requests, --max-lifetime
	Command       []string
}

// Listen is one socket to bind: a name for LISTEN_FDNAMES, and an address.
type Listen struct {
	Name    string
	Network string      // "tcp" or "unix"
	Address string      // host:port, or the unix socket path
	Mode    os.FileMode // unix only: the socket file's permissions; 0: from the umask
}

// String renders the socket as the --listen syntax.
func (l Listen) String() string {
	if l.Network == "unix" {
		return l.Name + "=unix:" + l.Address
	}
	return l.Name + "=" + l.Address
}

// Readiness says when a new worker counts as ready.
type Readiness struct {
	Kind   ReadyKind
	Delay  time.Duration  // for ReadyDelay
	Output *regexp.Regexp // for ReadyOutput: matched against each output line
	Path   string         // for ReadyHTTP: the request target, starting with /
}

// String renders the readiness as the --ready syntax: "notify",
// "delay:2s", "output:REGEX", "tcp" or "http:/healthz".
func (r Readiness) String() string {
	switch {
	case r.Kind == ReadyDelay:
		return "delay:" + r.Delay.String()
	case r.Kind == ReadyOutput && r.Output != nil:
		return "output:" + r.Output.String()
	case r.Kind == ReadyHTTP:
		return "http:" + r.Path
	}
	return r.Kind.String()
}

// Defaults.
const (
	DefaultReadyTimeout = 60 * time.Second
	DefaultStopTimeout  = 30 * time.Second
	MaxWorkers          = 1024
)

// validName reports whether s is a valid master or socket name: 1 to 255
// letters, digits, '.', '_', '-' or '@'. (A regexp with {1,255} compiles
// to a 255-step program at every start of every baton process, the
// per-worker shim included.)
func validName(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && !('0' <= c && c <= '9') && strings.IndexByte("_.@-", c) < 0 {
			return false
		}
	}
	return true
}

// Resolve validates r and fills in defaults. file names the TOML file for
// messages ("" when none). It returns every problem found, each one line
// naming the flag or key and what would be valid; [Problems] joins them.
func Resolve(r Raw, file string) (Config, []error) {
	v := validator{raw: &r, file: file}
	c := Config{File: file}
	c.Command = v.command(r.Command)
	c.Name = v.name(r.Name, c.Command)
	c.Workers = v.workers(r.Workers)
	c.ListenMode = v.listenMode(r.ListenMode)
	c.Listen = v.listen(r.Listen, c.ListenMode)
	v.proxyOptions(r, &c)
	before := len(v.problems)
	c.Ready = v.ready(r.Ready, c.Mode)
	c.ReadyTimeout = v.duration("ready_timeout", r.ReadyTimeout, DefaultReadyTimeout, true)
	if len(v.problems) == before {
		v.readyFits(c.Ready, c.ReadyTimeout)
	}
	c.StopSignal = v.signal(r.StopSignal)
	c.StopTimeout = v.duration("stop_timeout", r.StopTimeout, DefaultStopTimeout, true)
	c.Parallel = v.parallel(r.Parallel)
	c.Strategy = v.strategy(r.Strategy, c.Workers)
	c.Watch = v.paths("watch", r.Watch)
	c.Compat = v.compat(r.Compat)
	c.Control = v.control(r.Control)
	c.Pidfile = v.pidfile(r.Pidfile)
	c.LogFormat = v.logFormat(r.LogFormat)
	c.LogLines = v.logLines(r.LogLines)
	c.Env = v.env(r.Env)
	c.Dir = v.dir(r.Dir)
	c.Admin = v.admin(r.Admin, c.Listen)
	c.ShutdownDelay = v.shutdownDelay(r.ShutdownDelay, c.Admin)
	c.RunAs = v.runAs(r.User, r.Group, c.Dir, c.Command, c.Env)
	c.Limits = v.limits(r, &c)
	if len(c.Command) > 0 && len(v.problems) == 0 {
		v.executable(c.Command[0], c.Dir, c.Env)
	}
	return c, v.problems
}

// Problems joins a list of problems into one error, one problem a line, or
// returns nil for none: the one way lists of problems become an error.
func Problems(errs []error) error {
	return errors.Join(errs...)
}

// CheckWorkers says whether n is a valid number of workers, 1..MaxWorkers.
func CheckWorkers(n int) error {
	if err := checkRange(n); err != nil {
		return fmt.Errorf("%d workers %w", n, err)
	}
	return nil
}

// checkRange is the one definition of the range of workers (and of
// --parallel): 1..MaxWorkers.
func checkRange(n int) error {
	if n < 1 || n > MaxWorkers {
		return fmt.Errorf("is out of range: valid is 1..%d", MaxWorkers)
	}
	return nil
}

type validator struct {
	raw      *Raw
	file     string
	problems []error
}

func (v *validator) fail(key, format string, args ...any) {
	v.problems = append(v.problems, fmt.Errorf("%s: %s", v.raw.Where(key, v.file), fmt.Sprintf(format, args...)))
}

// label names a key inside a message about another: --ready-timeout, or
// ready_timeout when its value came from the file.
func (v *validator) label(key string) string {
	if v.raw.origin[key] == fromFile {
		return key
	}
	return "--" + strings.ReplaceAll(key, "_", "-")
}

func (v *validator) command(cmd []string) []string {
	if len(cmd) == 0 || cmd[0] == "" {
		v.problems = append(v.problems, fmt.Errorf("command: missing; give it after -- (baton run -l :8080 -- ./server) or as command = [...] in the config file"))
		return nil
	}
	return cmd
}

func (v *validator) name(name string, cmd []string) string {
	if name == "" && len(cmd) > 0 {
		name = filepath.Base(cmd[0])
	}
	if name != "" && !validName(name) {
		v.fail("name", "%s", nameProblem(name))
	}
	return name
}

// CheckName refuses what cannot be a master's name (a client command's
// --name): the same rule as `baton run`'s.
func CheckName(name string) error {
	if validName(name) {
		return nil
	}
	return fmt.Errorf("--name: %s", nameProblem(name))
}

func nameProblem(name string) string {
	return fmt.Sprintf("%q is not valid: use letters, digits, '.', '_', '-', '@' (1..255)", name)
}

func (v *validator) workers(n int) int {
	if v.raw.origin["workers"] == "" && n == 0 {
		return runtime.NumCPU()
	}
	if err := checkRange(n); err != nil {
		v.fail("workers", "%d %v", n, err)
	}
	return n
}

func (v *validator) parallel(n int) int {
	if v.raw.origin["parallel"] == "" && n == 0 {
		return 1
	}
	if err := checkRange(n); err != nil {
		v.fail("parallel", "%d %v", n, err)
	}
	return n
}

// readyFits refuses a fixed delay that the ready timeout would cut short:
// every worker would be stopped as failed, forever.
func (v *validator) readyFits(r Readiness, timeout time.Duration) {
	if r.Kind == ReadyDelay && r.Delay >= timeout {
		v.fail("ready", "%s is not shorter than %s %s: every worker would time out; raise %s or shorten the delay",
			r, v.label("ready_timeout"), timeout, v.label("ready_timeout"))
	}
}

func (v *validator) duration(key, s string, def time.Duration, positive bool) time.Duration {
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		v.fail(key, "%q is not a duration: use a Go duration such as 500ms, 30s or 2m", s)
		return def
	}
	if d < 0 || (positive && d == 0) {
		v.fail(key, "%q must be greater than 0", s)
	}
	return d
}

func (v *validator) signal(s string) syscall.Signal {
	if s == "" {
		return syscall.SIGTERM
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	sig := unix.SignalNum(name)
	if sig == 0 {
		if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
			return syscall.Signal(n)
		}
		v.fail("stop_signal", "%q is not a signal: use a name such as TERM, INT, QUIT, USR1 or HUP", s)
		return syscall.SIGTERM
	}
	return sig
}

func (v *validator) strategy(s string, workers int) Strategy {
	if s == "" {
		return StrategySurge
	}
	st, err := ParseStrategy(s)
	if err != nil {
		v.fail("strategy", "%v", err)
		return StrategySurge
	}
	if st == StrategyReplace && workers == 1 {
		v.fail("strategy", "replace with 1 worker would leave nothing serving during a rollout: use surge")
	}
	return st
}

func (v *validator) logFormat(s string) string {
	switch s {
	case "":
		return "text"
	case "text", "json":
		return s
	}
	v.fail("log_format", "%q is not valid: valid is text or json", s)
	return "text"
}

func (v *validator) env(list []string) []string {
	for _, kv := range list {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t\n") {
			v.fail("env", "%q is not KEY=VALUE", kv)
		}
	}
	return list
}

func (v *validator) absPath(p string) string {
	if p == "" {
		return ""
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return abs
}

func (v *validator) dir(d string) string {
	if d == "" {
		return ""
	}
	d = v.absPath(d)
	st, err := os.Stat(d)
	if err != nil || !st.IsDir() {
		v.fail("dir", "%q is not an existing directory", d)
	}
	return d
}

func (v *validator) paths(key string, list []string) []string {
	out := make([]string, 0, len(list))
	for _, p := range list {
		if _, err := os.Lstat(p); err != nil {
			v.fail(key, "%q does not exist", p)
		}
		out = append(out, v.absPath(p))
	}
	return out
}

func (v *validator) compat(p string) string {
	if p == "" {
		return ""
	}
	if _, err := os.ReadFile(p); err != nil {
		v.fail("compat", "cannot read %q: %v", p, unwrapPath(err))
	}
	return v.absPath(p)
}

// executable checks that the command resolves to an executable file, as the
// worker will see it (its PATH, its working directory).
func (v *validator) executable(name, dir string, env []string) {
	if _, err := LookPath(name, dir, env); err != nil {
		v.problems = append(v.problems, fmt.Errorf("command: %w", err))
	}
}

// LookPath resolves a worker's command the way its exec will: relative to
// dir when it contains a slash, else through PATH (the worker's own PATH
// from env when set there).
func LookPath(name, dir string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		p := name
		if !filepath.IsAbs(p) && dir != "" {
			p = filepath.Join(dir, p)
		}
		where := ""
		if p != name {
			where = fmt.Sprintf(" (looked up as %s, in --dir %s)", shownPath(p), shownPath(dir))
		}
		st, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("%q%s: %w", name, where, unwrapPath(err))
		}
		if st.IsDir() || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("%q%s is not an executable file", name, where)
		}
		return p, nil
	}
	path := os.Getenv("PATH")
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, d := range filepath.SplitList(path) {
		if d == "" {
			d = "."
		}
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%q not found in PATH", name)
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
