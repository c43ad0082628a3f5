// Package control is the master's control socket: a unix socket in a
// private per-user directory that speaks plain HTTP/1.1 with JSON bodies,
// so it can be driven by `baton` client commands or by curl:
//
//	curl --unix-socket "$XDG_RUNTIME_DIR/baton/NAME.sock" http://baton/v1/status
//
// Endpoints:
//
//	GET  /v1/status              the master's Status as JSON
//	POST /v1/stop[?force=1]      begin a graceful stop (force: kill now)
//	GET  /v1/wait                answers at once, then holds the connection
//	                             until the master exits (how `baton stop`
//	                             knows it is gone, even when unreaped)
//	POST /v1/reload[?strategy=S] a rollout; streams NDJSON lines
//	                             {"type":"event","event":{...}} (its steps,
//	                             from the event stream) then one
//	                             {"type":"result","result":{...}}
//	POST /v1/upgrade             replace the master; streams
//	                             {"type":"note",...} then {"type":"upgrade",...}
//	POST /v1/scale?workers=N     change the number of workers
//
// Errors are {"error": "...", "refused": true|false}: 503 while the master
// stops, 409 for any other refusal (nothing changed), 400 for a bad
// request. Peers whose uid is neither root nor the master's are refused at
// accept (SO_PEERCRED). Clients open a connection per request, and wait a
// bounded time for an answer to begin (a stopped master never answers).
//
// The socket is also the master's name: Listen takes an exclusive lock on
// PATH.lock for the master's life, replaces only a stale socket, and Close
// removes only the socket this master bound. In a master upgrade both are
// passed to the new master (Files, Adopt) and the old one lets go without
// removing anything (Release).
package control
