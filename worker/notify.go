package worker

import "strings"

// Ready tells the supervisor that this process serves (READY=1): baton
// then counts the worker as ready and may drain the one it replaces.
func Ready() error { return Notify("READY=1") }

// Status sets the one-line status text shown by `baton status` and
// `systemctl status` (STATUS=...). Newlines become spaces.
func Status(text string) error {
	return Notify("STATUS=" + strings.ReplaceAll(text, "\n", " "))
}

// Stopping tells the supervisor that this process has begun to shut down
// (STOPPING=1).
func Stopping() error { return Notify("STOPPING=1") }
