// Package proxy holds the end-to-end tests of baton's proxy mode (HTTP
// and TCP, rollouts and master upgrades behind it, a worker's private
// port) and of the admin endpoint (metrics, /readyz, the shutdown delay),
// with the real baton binary, real servers (Node, Python) and a client
// that never retries. TestMain builds the binaries through
// internal/e2etest.
package proxy
