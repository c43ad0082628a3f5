// Package proc is baton's seam to the operating system's process API: it
// starts workers from one OS thread that lives as long as the master (so the
// parent-death signal fires only when the master dies), execs the user's
// command through a tiny re-exec of baton that sets LISTEN_PID to the
// worker's own pid, and runs a guardian process that kills every worker's
// process group if the master is killed without a chance to clean up.
package proc
