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
//   - [HTTP] (http.go, front.go, upstream.go, transport.go, body.go): an
//     HTTP/1.1 reverse proxy. Its front reads each client connection and
//     answers plain requests itself, each through its backend's own
//     keep-alive client (upstream.go), in one goroutine per connection;
//     it hands a connection whose request is not plain (an upgrade, a
//     streamed or large body, Expect, HTTP/1.0) to net/http's server and
//     httputil.ReverseProxy, over one upstream Transport per backend.
//     Both retry on another worker when that cannot replay a request
//     twice (transport.go).
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
