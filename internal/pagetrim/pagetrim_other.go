//go:build !linux

package pagetrim

// Self does nothing on this system.
func Self() (Result, error) { return Result{}, nil }
