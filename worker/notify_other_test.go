//go:build !linux

package worker

import (
	"path/filepath"
	"testing"
)

// The notify protocol is implemented for Linux only: elsewhere every call
// is a no-op, even with NOTIFY_SOCKET naming a socket nobody listens on.
func TestNotifyIsNoOpOffLinux(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "nobody"))
	for _, send := range []func() error{Ready, Stopping, func() error { return Status("x") },
		func() error { return Notify("READY=1") }} {
		if err := send(); err != nil {
			t.Fatal(err)
		}
	}
}
