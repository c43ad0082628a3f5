//go:build !linux

package worker

// Notify does nothing and returns nil: the notify protocol is implemented
// for Linux only, where baton and systemd run. On Linux it sends state,
// newline-separated KEY=VALUE assignments such as "READY=1", to
// $NOTIFY_SOCKET.
func Notify(state string) error { return nil }
