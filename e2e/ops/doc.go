// Package ops holds the end-to-end tests of running baton in production:
// master upgrades, systemd (notify, socket activation, the fd store) and
// its unit files, baton as a container's PID 1, containment of workers'
// children, privilege drop, logs and status, bad input and the hardening
// against hostile conditions, and the demo. TestMain builds the binaries
// through internal/e2etest.
package ops
