//go:build !linux

package worker

import (
	"os"
	"strconv"
	"testing"
)

// Socket activation is implemented for Linux only: elsewhere the LISTEN_*
// variables, even malformed ones, yield no socket and no error.
func TestActivationIgnoredOffLinux(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	for _, env := range []map[string]string{
		{"LISTEN_FDS": "1", "LISTEN_PID": pid, "LISTEN_FDNAMES": "http"},
		{"LISTEN_FDS": "two", "LISTEN_PID": pid},
	} {
		if socks, err := take(func(k string) string { return env[k] }, os.Getpid()); socks != nil || err != nil {
			t.Fatalf("%v: got %v %v", env, socks, err)
		}
	}
}
