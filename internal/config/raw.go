package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Raw is the configuration as text, exactly as given in the TOML file or on
// the command line, before validation; it is also the form `baton check`
// prints, so the printed file uses exactly the keys the loader reads. Durations, signals and addresses stay
// strings here so that every bad value can be reported with its origin.
type Raw struct {
	Name          string   `toml:"name"`
	Workers       int      `toml:"workers"`
	Listen        []string `toml:"listen"`
	ListenMode    string   `toml:"listen_mode,omitempty"`
	Mode          string   `toml:"mode"`
	Proxy         string   `toml:"proxy,omitempty"`
	PortEnv       string   `toml:"port_env,omitempty"`
	DrainTimeout  string   `toml:"drain_timeout,omitempty"`
	ProxyProtocol string   `toml:"proxy_protocol,omitempty"`
	Steer         string   `toml:"steer,omitempty"`
	Ready         string   `toml:"ready"`
	ReadyTimeout  string   `toml:"ready_timeout"`
	StopSignal    string   `toml:"stop_signal"`
	StopTimeout   string   `toml:"stop_timeout"`
	Parallel      int      `toml:"parallel"`
	Strategy      string   `toml:"strategy"`
	Watch         []string `toml:"watch,omitempty"`
	Compat        string   `toml:"compat,omitempty"`
	Control       string   `toml:"control,omitempty"`
	Admin         string   `toml:"admin,omitempty"`
	LogFormat     string   `toml:"log_format"`
	LogLines      int      `toml:"log_lines,omitempty"`
	Env           []string `toml:"env,omitempty"`
	Dir           string   `toml:"dir,omitempty"`
	User          string   `toml:"user,omitempty"`
	Group         string   `toml:"group,omitempty"`
	Pidfile       string   `toml:"pidfile,omitempty"`
	ShutdownDelay string   `toml:"shutdown_delay,omitempty"`
	Watchdog      string   `toml:"watchdog,omitempty"`
	MaxMemory     string   `toml:"max_memory,omitempty"`
	MaxRequests   int      `toml:"max_requests,omitempty"`
	MaxLifetime   string   `toml:"max_lifetime,omitempty"`
	Command       []string `toml:"command"`

	// origin maps a key (TOML spelling) to where its value came from; keys
	// not present keep their default.
	origin map[string]string
}

// Origins of a value, used to name it in error messages.
const (
	fromFlag = "flag"
	fromFile = "file"
)

// setOrigin records where key's value came from.
func (r *Raw) setOrigin(key, from string) {
	if r.origin == nil {
		r.origin = map[string]string{}
	}
	r.origin[key] = from
}

// Where names a key for an error message: `FILE: key "ready_timeout"`
// when its value came from the file, else the flag, "--ready-timeout".
func (r *Raw) Where(key, file string) string {
	if r.origin[key] == fromFile {
		return fmt.Sprintf("%s: key %q", file, key)
	}
	return "--" + strings.ReplaceAll(key, "_", "-")
}

// decodeProblems turns a go-toml error into one problem per bad key, each
// with FILE:LINE:COLUMN.
func decodeProblems(path string, err error) []error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		out := make([]error, 0, len(strict.Errors))
		for _, e := range strict.Errors {
			row, col := e.Position()
			out = append(out, fmt.Errorf("%s:%d:%d: unknown key %q (valid keys: %s)",
				path, row, col, strings.Join(e.Key(), "."), strings.Join(Keys(), ", ")))
		}
		return out
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		key := strings.Join(de.Key(), ".")
		if key != "" {
			key = fmt.Sprintf(" key %q:", key)
		}
		return []error{fmt.Errorf("%s:%d:%d:%s %s", shownPath(path), row, col, key, oneLine(de.Error()))}
	}
	return []error{fmt.Errorf("%s: %s", shownPath(path), oneLine(err.Error()))}
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

// Keys lists every valid TOML key, in documentation order: the order of
// Raw's fields, so that a key added there is never missing here.
func Keys() []string {
	t := reflect.TypeFor[Raw]()
	out := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ","); name != "" {
			out = append(out, name)
		}
	}
	return out
}
