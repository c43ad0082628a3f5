package config

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// Any command line of `baton run` (flags, then the command after --): no
// panic; a flag the parser refuses is one line once cmd/baton passes it
// through FlagError (an argument "-\n" once made two); flags that parse resolve
// to one-line problems or a config whose listen addresses render back.
func FuzzCommandLine(f *testing.F) {
	for _, seed := range []string{
		"-w\x004\x00-l\x00127.0.0.1:8080\x00--\x00/bin/true",
		"--mode\x00proxy\x00--proxy\x00http\x00--ready\x00http:/healthz\x00-l\x00:0\x00--\x00/bin/true\x00{port}",
		"-w\x000\x00--ready-timeout\x00soon\x00-l\x008080",
		"--listen-mode\x00999\x00--stop-signal\x00FOO\x00--strategy\x00rolling",
		"--env\x00NOEQ\x00--shutdown-delay\x005s\x00--user\x00nobody",
		"-l\x00web=unix:/tmp/x.sock\x00-l\x00web=:80\x00--log-format\x00yaml",
		"--workers=-1\x00--parallel=2000\x00--proxy-protocol=v3",
		"-w",
		"--nosuchflag",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, "\x00")
		fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		flags := BindFlags(fs)
		if err := fs.Parse(args); err != nil {
			if strings.Contains(FlagError(err).Error(), "\n") { // as cmd/baton reports it
				t.Fatalf("%q: a flag error of more than one line: %q", args, FlagError(err))
			}
			return
		}
		if flags.ConfigFile != "" {
			return // reading files is FuzzConfigFile's job
		}
		raw := flags.Apply(Raw{}, fs.Args()) // as cmd/baton: every positional argument is the command
		cfg, problems := Resolve(raw, "")
		mustBeOneLine(t, problems)
		if len(problems) > 0 {
			return
		}
		for _, l := range cfg.Listen {
			if again, err := ParseListen(l.String(), 0); err != nil || again.Address != l.Address {
				t.Fatalf("%q: listen %+v renders %q, which parses to %+v (%v)", args, l, l.String(), again, err)
			}
		}
	})
}
