// Package proxy is baton's proxy mode: the master accepts on the public
// --listen sockets and forwards each connection (--proxy tcp) or request
// (--proxy http) to a ready worker's private loopback port.
//
// The pieces, one job each:
//
//   - [Pool] (pool.go, backend.go): the ready workers. A worker joins when
//     it becomes ready and leaves when it starts draining; a pick takes the
//     backend with the fewest open connections (tcp) or requests in flight
//     (http), round-robin among equals, and waits for one, bounded, while
//     none is ready.
//   - [TCP] (tcp.go, proxyproto.go): L4 forwarding with io.Copy between
//     unwrapped *net.TCPConn (Linux splices), half-close with CloseWrite,
//     optional PROXY protocol v1/v2 header.
//   - [HTTP] (http.go, transport.go, body.go): an HTTP/1.1 reverse proxy
//     on httputil.ReverseProxy, one upstream Transport per backend, with
//     retries on another worker when that cannot replay a request twice.
//   - [Launcher] (launcher.go, process.go, probe.go, port.go): a
//     proc.Launcher decorator that gives each worker a free loopback port
//     ($PORT, or --port-env, and {port} in its arguments), probes its
//     readiness, adds it to the pool when the supervisor marks it ready,
//     and on the stop signal first takes it out of the rotation and waits
//     for its connections or requests (--drain-timeout), and only then
//     signals it.
//   - [Server] (server.go): the proxy of one master over its listening
//     sockets, stopped gracefully on a stop or a hand-over.
package proxy
