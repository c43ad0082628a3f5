//go:build !linux

package worker

import "errors"

// take finds no inherited sockets: socket activation is implemented for
// Linux only, so elsewhere Listen always binds its fallback address,
// Listeners returns none, and the LISTEN_* variables are left untouched.
func take(func(string) string, int) ([]inheritedSocket, error) { return nil, nil }

// checkListening is not reached, since take passes no socket on.
func checkListening(int) error {
	return errors.New("inherited sockets are supported on Linux only")
}
