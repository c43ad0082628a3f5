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
//	POST /v1/reload[?strategy=S] a rollout; streams NDJSON lines
//	                             {"type":"progress",...} then one
//	                             {"type":"result","result":{...}}
//	POST /v1/scale?workers=N     change the number of workers
//
// Errors are {"error": "...", "refused": true|false} with status 409 for a
// refusal (nothing changed), 400 for a bad request, 503 when stopping.
// Peers whose uid is neither root nor the master's are refused at accept
// (SO_PEERCRED).
package control
