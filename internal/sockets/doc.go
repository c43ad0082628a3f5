// Package sockets binds the master's listening sockets once, with the
// kernel's largest accept backlog and without SO_REUSEPORT, so that every
// worker shares one accept queue; and renders them as the systemd
// socket-activation environment a worker inherits.
//
// What to bind is a [config.Listen]; a unix socket gets its --listen-mode
// before it listens, and its file is removed on Close only while it is the
// one this master bound. Because workers share each socket's open file
// description, one worker calling shutdown() on it stops it for all:
// [Socket.Listening] notices on the master's copy and [Socket.Heal] makes a
// TCP socket listen again (a unix socket cannot be: see
// [ErrCannotListenAgain]).
package sockets
