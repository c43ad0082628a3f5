// Package chaos holds baton's longest end-to-end tests: a minute of chaos
// under load in every test run (TestChaosUnderLoad), and a soak behind
// BATON_SOAK=1 (TestSoakRolloutsAndUpgrades). It builds baton and the
// example server in TestMain, as package e2e does, and is a package of its
// own so that its minute runs beside the e2e package, keeping each under
// go test's 10-minute limit per package.
package chaos
