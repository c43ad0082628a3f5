package worker

import (
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/batonhq/baton/internal/wire"
)

// Notify sends one systemd notify datagram, newline-separated KEY=VALUE
// assignments such as "READY=1", to $NOTIFY_SOCKET: a socket path, or an
// '@' name in Linux's abstract namespace. Without NOTIFY_SOCKET (run
// alone, or under a supervisor that does not listen) it does nothing and
// returns nil. On systems other than Linux it does nothing whatever
// NOTIFY_SOCKET says.
//
// NOTIFY_SOCKET is left set, as sd_notify does by default, so that Notify
// can be called any number of times. A program that starts other
// programs should remove it from their environment unless they are meant
// to report for it: baton and systemd read a READY=1 from a child as the
// worker's own.
func Notify(state string) error {
	value := os.Getenv(wire.EnvNotifySocket)
	if value == "" {
		return nil
	}
	addr := &net.UnixAddr{Name: wire.NotifyAddr(value), Net: "unixgram"}
	conn, err := net.DialUnix("unixgram", nil, addr)
	if err != nil {
		return fmt.Errorf("notify %s: connect to %s: %w", firstLine(state), value, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("notify %s: send to %s: %w", firstLine(state), value, err)
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
