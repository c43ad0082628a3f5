// Package recipes holds the end-to-end tests that run real servers of
// other languages under the real baton binary as the README's recipes say:
// readiness by output (Node, uvicorn, Puma), gunicorn, HAProxy in front of
// two hosts, and the per-worker limits and watchdogs (memory, requests,
// lifetime, a stopped worker) with their recipes. TestMain builds the
// binaries through internal/e2etest.
package recipes
