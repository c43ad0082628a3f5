package master

import (
	"fmt"
	"os"

	"github.com/batonhq/baton/internal/sockets"
	"github.com/batonhq/baton/internal/wire"
	"golang.org/x/sys/unix"
)

// bindListen takes each --listen socket from the descriptors a service
// manager started this master with (systemd socket activation, or its fd
// store after a restart), matched by name and address, and binds the
// others. A passed descriptor no --listen wants is closed, with a warning.
func (m *Master) bindListen() error {
	passed, err := m.passedSockets()
	if err != nil {
		return err
	}
	used := map[int]bool{}
	for _, l := range m.cfg.Listen {
		var sock *sockets.Socket
		if i := sockets.MatchPassed(l, passed, used); i >= 0 {
			used[i] = true
			sock, err = sockets.AdoptPassed(l, passed[i])
			if err == nil {
				m.log.Info("listening socket taken from the service manager", "name", l.Name, "address", sock.Addr, "fd_name", passed[i].Name)
			}
		} else {
			sock, err = sockets.Bind(l)
		}
		if err != nil {
			sockets.CloseAll(m.socks)
			m.socks = nil
			return fmt.Errorf("--listen: %w", err)
		}
		m.socks = append(m.socks, sock)
	}
	for i, p := range passed {
		if !used[i] {
			m.log.Warn("a descriptor from the service manager matches no --listen: closed", "fd", p.FD, "fd_name", p.Name, "address", p.Address)
			_ = unix.Close(p.FD)
		}
	}
	return nil
}

// passedSockets reads LISTEN_FDS, when it is meant for this process.
func (m *Master) passedSockets() ([]sockets.Passed, error) {
	act, ok, err := wire.ParseActivation(m.opts.Getenv)
	if err != nil {
		return nil, fmt.Errorf("socket activation: %w", err)
	}
	if !ok || act.PID != os.Getpid() {
		return nil, nil
	}
	out := make([]sockets.Passed, act.Count)
	for i := range out {
		out[i] = sockets.DescribePassed(wire.FD(i), act.Names[i])
	}
	return out, nil
}
