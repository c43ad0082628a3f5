// Package master assembles one `baton run`: it binds the listening
// sockets, takes the control socket (and with it the master's name),
// writes the pidfile, maps signals, starts the guardian, the supervisor
// and every subscriber of its event stream (the log, the status tracker,
// the socket healer), serves the control API, and cleans all of it up in
// order when the supervisor stops. Master upgrade will live here too.
//
// cmd/baton only parses the command line, builds Options and calls Run.
package master
