// Package clock is the supervisor's seam to time: the real clock for the
// master, and a fake one whose time moves only when a test says so, so that
// rollout, backoff and timeout logic is tested in milliseconds with no
// real-time sleeps.
package clock
