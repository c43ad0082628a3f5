// Package loadtest is an honest HTTP/1.1 load generator for baton's
// end-to-end tests and benchmarks, whose job is to prove "0 failed
// requests" while workers restart.
//
// It deliberately does not use net/http's client: http.Transport silently
// replays a request when a reused keep-alive connection dies before the
// response (for idempotent methods, or any request with an Idempotency-Key
// header), which hides exactly the failures a zero-downtime test must
// count. Instead each of Options.Conns goroutines writes raw request bytes
// to its own keep-alive net.Conn, one request at a time, and reads the
// response with http.ReadResponse.
//
// Counting rules:
//
//   - A request is sent once and never re-sent. It fails if the dial for it
//     fails (class "dial: ..."), if writing it fails, if no complete
//     response comes back (EOF, reset, timeout, malformed), or if the
//     status is not 2xx ("status 502"). Every other request is OK.
//   - A connection is reused unless the response said Connection: close
//     (or had no length and so ended at EOF), or the server is seen to have
//     closed it (or sent stray bytes) after a complete response. Then a
//     fresh connection is dialed before the next request is written. That
//     reconnect is not a retry: no request is ever written twice. The
//     remaining race, the server closing just as the next request goes
//     out, is a real failure and is counted as one.
//   - After a failure the connection is closed and the next request dials
//     a new one.
//   - Stopping (context done, Duration elapsed, Requests reached) never
//     aborts a request in flight: it finishes and counts normally, bounded
//     by Options.RequestTimeout. Run therefore returns at most about one
//     RequestTimeout after the stop.
//
// Latencies of OK requests go into a small fixed-bucket log-linear
// histogram per connection goroutine (about 3% resolution), merged when
// Run returns, so a run of millions of requests needs no more memory than
// a short one.
//
// It depends on nothing but the standard library.
package loadtest
