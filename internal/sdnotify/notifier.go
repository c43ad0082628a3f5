package sdnotify

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/wire"
	"golang.org/x/sys/unix"
)

// EnvFDStore is the variable in which systemd 254 and later give the
// service's FileDescriptorStoreMax= (absent on older versions).
const EnvFDStore = "FDSTORE"

// Notifier sends datagrams to one notify socket. The zero value (and a
// nil *Notifier) is disabled: every Send returns nil and sends nothing.
type Notifier struct {
	addr string // the NOTIFY_SOCKET value; "@..." is the abstract namespace
}

// FromEnv returns the notifier for getenv's NOTIFY_SOCKET, or nil when
// the process was not started by a service manager that listens.
func FromEnv(getenv func(string) string) *Notifier {
	addr := getenv(wire.EnvNotifySocket)
	if addr == "" {
		return nil
	}
	return &Notifier{addr: addr}
}

// Enabled reports whether n sends anything.
func (n *Notifier) Enabled() bool { return n != nil && n.addr != "" }

// Send sends state (newline-separated KEY=VALUE assignments) in one
// datagram, with files' descriptors attached when there are any.
func (n *Notifier) Send(state string, files ...*os.File) error {
	if !n.Enabled() {
		return nil
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("notify %s: socket: %w", n.addr, err)
	}
	defer unix.Close(fd)
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		oob = unix.UnixRights(fds...)
	}
	// x/sys/unix maps a leading '@' to the abstract namespace.
	if err := unix.Sendmsg(fd, []byte(state), oob, &unix.SockaddrUnix{Name: n.addr}, 0); err != nil {
		return fmt.Errorf("notify %s: send %q: %w", n.addr, firstLine(state), err)
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// Monotonic renders MONOTONIC_USEC= for now: CLOCK_MONOTONIC in
// microseconds, which systemd wants beside RELOADING=1.
func Monotonic() string {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return fmt.Sprintf("MONOTONIC_USEC=%d", ts.Nano()/int64(time.Microsecond))
}

// Lines joins assignments into one message.
func Lines(assignments ...string) string { return strings.Join(assignments, "\n") + "\n" }

// Status is a STATUS= assignment of one line.
func Status(text string) string {
	return "STATUS=" + strings.ReplaceAll(strings.TrimSpace(text), "\n", " ")
}
