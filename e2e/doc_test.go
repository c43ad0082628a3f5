// Package e2e drives the real baton binary with real worker processes, real
// sockets and real signals: TestMain builds baton and the example server,
// each test runs a master, sends load with a client that never retries, and
// counts every failed request.
package e2e
