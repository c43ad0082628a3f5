package steer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// acceptQueues returns, by socket inode, how many connections wait in the
// accept queue of each TCP listener of the network namespace: one
// sock_diag dump of the listeners (a netlink query that costs the same
// however many connections are open, unlike /proc/net/tcp).
func acceptQueues() (map[uint64]int, error) {
	queues := map[uint64]int{}
	err := dumpTCP(1<<tcpListen, func(s socket) { queues[s.inode] = s.rqueue })
	return queues, err
}

// dumpTCP calls fn for each TCP socket of the network namespace in one of
// states (a bit mask of TCP states), IPv4 and IPv6, from sock_diag.
func dumpTCP(states uint32, fn func(socket)) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_INET_DIAG)
	if err != nil {
		return fmt.Errorf("sock_diag socket: %w", err)
	}
	defer unix.Close(fd)
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		if err := dump(fd, family, states, fn); err != nil {
			return err
		}
	}
	return nil
}

// Sizes and offsets of the netlink and inet_diag structures
// (linux/netlink.h, linux/inet_diag.h).
const (
	nlmsgHdrLen    = 16
	inetDiagReqLen = 56 // inet_diag_req_v2
	inetDiagMsgLen = 72 // inet_diag_msg
	offMsgState    = 1
	offMsgSport    = 4 // big-endian
	offMsgRQueue   = 56
	offMsgInode    = 68
)

func dump(fd int, family uint8, states uint32, fn func(socket)) error {
	req := make([]byte, nlmsgHdrLen+inetDiagReqLen)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], 1) // sequence
	body := req[nlmsgHdrLen:]
	body[0], body[1] = family, unix.IPPROTO_TCP
	ne.PutUint32(body[4:], states)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("sock_diag request: %w", err)
	}
	buf := make([]byte, 64<<10)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return fmt.Errorf("sock_diag answer: %w", err)
		}
		for msg := buf[:n]; len(msg) >= nlmsgHdrLen; {
			size := int(ne.Uint32(msg[0:]))
			typ := ne.Uint16(msg[4:])
			if size < nlmsgHdrLen || size > len(msg) {
				return errors.New("sock_diag answer: a truncated message")
			}
			switch typ {
			case unix.NLMSG_DONE:
				return nil
			case unix.NLMSG_ERROR:
				if size >= nlmsgHdrLen+4 {
					if errno := int32(ne.Uint32(msg[nlmsgHdrLen:])); errno != 0 {
						if unix.Errno(-errno) == unix.ENOENT && family == unix.AF_INET6 {
							return nil // no IPv6 here
						}
						return fmt.Errorf("sock_diag: %w", unix.Errno(-errno))
					}
				}
				return nil
			}
			if m := msg[nlmsgHdrLen:size]; len(m) >= inetDiagMsgLen {
				fn(socket{
					port:   int(binary.BigEndian.Uint16(m[offMsgSport:])),
					state:  int(m[offMsgState]),
					rqueue: int(ne.Uint32(m[offMsgRQueue:])),
					inode:  uint64(ne.Uint32(m[offMsgInode:])),
				})
			}
			msg = msg[(size+3)&^3:]
			if len(msg) > 0 && len(msg) < nlmsgHdrLen {
				break
			}
		}
	}
}

// inode is the socket inode of f.
func inode(f *os.File) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}
