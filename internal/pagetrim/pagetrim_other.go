//go:build !linux

package pagetrim

// Self does nothing on this system.
func Self() (Result, error) { return Result{}, nil }

// FileResident is 0 on this system: there is nothing for Self to give back.
func FileResident() (int64, error) { return 0, nil }
