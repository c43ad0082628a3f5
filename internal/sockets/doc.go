// Package sockets binds the master's listening sockets once, with the
// kernel's largest accept backlog and without SO_REUSEPORT, so that every
// worker shares one accept queue; and renders them as the systemd
// socket-activation environment a worker inherits.
package sockets
