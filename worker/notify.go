package worker

import (
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/batonhq/baton/internal/wire"
)

// Notify sends one systemd notify message (for example "READY=1") to
// $NOTIFY_SOCKET, a path or an '@' abstract name. Without NOTIFY_SOCKET it
// does nothing and returns nil. NOTIFY_SOCKET is left set.
func Notify(state string) error {
	path := os.Getenv(wire.EnvNotifySocket)
	if path == "" {
		return nil
	}
	// The net package maps a leading '@' to Linux's abstract namespace.
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("notify %s: %w", path, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("notify %s: %w", path, err)
	}
	return nil
}

// Ready tells the supervisor this process serves (READY=1).
func Ready() error { return Notify("READY=1") }

// Status sets the one-line status text shown by `baton status` and
// `systemctl status` (STATUS=...). Newlines are replaced by spaces.
func Status(text string) error {
	return Notify("STATUS=" + strings.ReplaceAll(text, "\n", " "))
}

// Stopping tells the supervisor this process has begun to shut down.
func Stopping() error { return Notify("STOPPING=1") }
