package proc

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/batonhq/baton/internal/wire"
	"golang.org/x/sys/unix"
)

// forwarded are the signals PID 1 passes on to the master.
var forwarded = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTTIN, syscall.SIGTTOU}

// RunAsPID1 is `baton run` as a container's PID 1 (Kubernetes, docker
// without --init). The kernel gives PID 1 two duties a master does not
// have: every orphan of the container becomes its child and must be reaped,
// and no signal has a default action on it. So this process stays a tiny
// init: it starts the real master (this program, argv and env as given)
// as its child, forwards every signal to it, reaps every process that ends
// up its child, and exits with the master's status. The master tells it
// about an upgrade with MAINPID= on the notify socket, as it tells systemd,
// so signals go to the new master and the old one's exit ends nothing.
func RunAsPID1(exe string, argv, env []string) int {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, append([]os.Signal{syscall.SIGCHLD}, forwarded...)...)
	mainPIDs := make(chan int, 4)
	if os.Getenv(wire.EnvNotifySocket) == "" {
		if path, stop, err := listenMainPID(mainPIDs); err == nil {
			defer stop()
			// FDSTORE=0: this init keeps no descriptors for the master.
			env = append(wire.Without(env, wire.EnvNotifySocket, "FDSTORE"), wire.EnvNotifySocket+"="+path, "FDSTORE=0")
		}
	}
	p, err := os.StartProcess(exe, argv, &os.ProcAttr{Env: env, Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}})
	if err != nil {
		fmt.Fprintf(os.Stderr, "baton: as PID 1: start the master: %v\n", err)
		return 1
	}
	return superviseAsPID1(p.Pid, sigs, mainPIDs)
}

// superviseAsPID1 forwards signals to the current master and reaps until
// the master exits without having named a successor.
func superviseAsPID1(main int, sigs <-chan os.Signal, mainPIDs <-chan int) int {
	for {
		select {
		case pid := <-mainPIDs:
			main = pid
		case sig := <-sigs:
			if sig != syscall.SIGCHLD {
				_ = syscall.Kill(main, sig.(syscall.Signal))
				continue
			}
			if code, done := reapAll(&main, mainPIDs); done {
				return code
			}
		}
	}
}

// reapAll reaps every exited child. When the master is among them (and no
// MAINPID= named another first), it returns the exit code to end with.
func reapAll(main *int, mainPIDs <-chan int) (int, bool) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return 0, false
		}
		if pid != *main {
			continue
		}
		select {
		case next := <-mainPIDs: // it handed over just before it exited
			*main = next
			continue
		default:
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal()), true
		}
		return ws.ExitStatus(), true
	}
}

// listenMainPID receives the master's notify datagrams and passes on
// every MAINPID=; stop closes the socket.
func listenMainPID(out chan<- int) (string, func(), error) {
	dir, err := os.MkdirTemp("", "baton-pid1-")
	if err != nil {
		return "", nil, err
	}
	path := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				return
			}
			if pid := wire.ParseNotify(buf[:n]).MainPID; pid > 0 {
				out <- pid
			}
		}
	}()
	return path, func() { conn.Close(); os.RemoveAll(dir) }, nil
}
