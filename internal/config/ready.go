package config

import (
	"errors"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
)

// readyOutput reads "output:REGEX": the worker is ready once a line it
// writes matches REGEX (Go's RE2 syntax, unanchored). An empty pattern
// would match the first line whatever it says, so it is refused.
func (v *validator) readyOutput(s string) Readiness {
	pattern := strings.TrimPrefix(s, "output:")
	if pattern == "" {
		v.fail("ready", "%q has no pattern: want output:REGEX, a line the worker prints once it serves, such as 'output:listening on'", s)
		return Readiness{Kind: ReadyOutput}
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		v.fail("ready", "%q is not a valid regular expression (%s): want output:REGEX in Go's RE2 syntax, such as 'output:listening on port [0-9]+'", s, regexpProblem(err))
		return Readiness{Kind: ReadyOutput}
	}
	return Readiness{Kind: ReadyOutput, Output: re}
}

// regexpProblem says what is wrong with a pattern in a few words, such
// as `missing closing ) in "("`, without the "error parsing regexp" prefix.
func regexpProblem(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return se.Code.String() + " in " + strconv.Quote(se.Expr)
	}
	return err.Error()
}
