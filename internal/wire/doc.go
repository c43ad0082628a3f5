// Package wire is the one definition of what crosses the process boundary
// between a baton master and its workers: the systemd socket-activation
// environment (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES), the systemd notify
// datagram protocol (READY=1, STATUS=..., STOPPING=1) and baton's own worker
// variables. The master (internal/sockets, internal/supervisor) and the
// app-facing library (package worker) both use it, so the two sides cannot
// drift.
//
// It depends on nothing but the standard library.
package wire
