package main

import (
	"github.com/batonhq/baton/internal/config"
	"github.com/spf13/cobra"
)

// loader reads the config file and flags into a validated config, and can
// do it again for a rollout (the file may have changed; the flags have not).
type loader struct {
	flags   *config.Flags
	command []string
}

func newLoader(c *cobra.Command) *loader {
	return &loader{flags: config.BindFlags(c.Flags())}
}

// setArgs records the command given on the command line.
func (l *loader) setArgs(c *cobra.Command, args []string) {
	l.command = args
}

// load returns the effective config or every problem found.
func (l *loader) load() (config.Config, []error) {
	var base config.Raw
	file := l.flags.ConfigFile
	if file != "" {
		raw, problems := config.LoadFile(file)
		if len(problems) > 0 {
			return config.Config{}, problems
		}
		base = raw
	}
	return config.Resolve(l.flags.Apply(base, l.command), file)
}

// reload is the master's Reconfigure: one error joining every problem.
func (l *loader) reload() (config.Config, error) {
	cfg, problems := l.load()
	return cfg, config.Problems(problems)
}

// problemsError turns problems into an exit error: the first on the error
// line, the rest as detail lines.
func problemsError(code int, problems []error) error {
	detail := make([]string, 0, len(problems)-1)
	for _, p := range problems[1:] {
		detail = append(detail, "baton: "+p.Error())
	}
	return fail(code, problems[0], detail...)
}
