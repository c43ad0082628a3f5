package config

import (
	"errors"
	"strconv"
	"strings"
)

// FlagError is err, from the flag parser, as one line: the parser quotes
// the argument it refuses as given, and an argument with a newline or
// another control character in it would break the line.
func FlagError(err error) error {
	msg := err.Error()
	if !strings.ContainsFunc(msg, isControl) {
		return err
	}
	var b strings.Builder
	for _, r := range msg {
		if isControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return errors.New(b.String())
}

func isControl(r rune) bool { return r < ' ' || r == 0x7f }
