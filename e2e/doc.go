// Package e2e drives the real baton binary with real worker processes, real
// sockets and real signals: TestMain builds baton and the example server
// (internal/e2etest), each test runs a master, sends load with a client
// that never retries, and counts every failed request.
//
// This package holds the core: workers sharing a socket, crashes and
// stops, rollouts under load in every strategy, deploys by symlink, and
// the benchmarks. The other end-to-end tests live in packages of their
// own so that go test runs them side by side: e2e/proxy, e2e/recipes,
// e2e/ops, e2e/chaos and e2e/fuzzing.
package e2e
