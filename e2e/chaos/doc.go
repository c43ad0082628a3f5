// Package chaos holds baton's longest end-to-end tests: a minute of chaos
// under load in every test run (TestChaosUnderLoad), and a soak behind
// BATON_SOAK=1 (TestSoakRolloutsAndUpgrades). It builds baton and the
// example server in TestMain through internal/e2etest, as every e2e
// package does, and is a package of its own so that its minute runs beside
// the other e2e packages.
package chaos
