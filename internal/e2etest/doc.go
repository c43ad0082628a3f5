// Package e2etest holds the helpers for the end-to-end tests that drive the
// real baton binary (the packages under e2e/): building baton and the
// example server once per test process (Main), starting a master with a
// private runtime directory and talking to it over its control socket
// (Master, UpgradableMaster), running client commands (RunBaton,
// RunCommand), polling a condition with a deadline (WaitFor), and the
// honest load client that never retries and counts every failed request
// (Load).
//
// Only tests import it: it calls t.Fatal on errors and reads its
// binaries' paths from what Main built.
package e2etest
