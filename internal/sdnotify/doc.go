// Package sdnotify is the master's side of systemd's notify protocol
// (sd_notify(3)): it sends the master's own state (READY=1, STATUS=,
// RELOADING=1, STOPPING=1, MAINPID=) to the service manager, and
// descriptors to its fd store (FDSTORE=1 with SCM_RIGHTS).
//
// It is the sending half only. Workers' datagrams to the master are read
// by internal/proc and parsed by internal/wire; the message format (one
// KEY=VALUE per line) is shared with wire.ParseNotify, which the tests use
// to read back what was sent.
package sdnotify
