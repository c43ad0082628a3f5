package proxy

import (
	"encoding/binary"
	"fmt"
	"net"
)

// v2Signature starts every PROXY protocol v2 header.
var v2Signature = [12]byte{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A}

// proxyHeader renders the PROXY protocol header (version 1 or 2) that
// tells a worker the client's address (src) and the address it connected
// to (dst). A non-TCP client (a unix socket) is sent as UNKNOWN / LOCAL.
func proxyHeader(version int, src, dst net.Addr) ([]byte, error) {
	s, sok := src.(*net.TCPAddr)
	d, dok := dst.(*net.TCPAddr)
	ok := sok && dok
	switch version {
	case 1:
		return proxyV1(s, d, ok), nil
	case 2:
		return proxyV2(s, d, ok), nil
	}
	return nil, fmt.Errorf("PROXY protocol version %d is not valid: valid is 1 or 2", version)
}

func proxyV1(s, d *net.TCPAddr, ok bool) []byte {
	if !ok {
		return localHeader(1)
	}
	fam := "TCP4"
	if s.IP.To4() == nil || d.IP.To4() == nil {
		fam = "TCP6"
	}
	return []byte(fmt.Sprintf("PROXY %s %s %s %d %d\r\n", fam, ipString(s.IP, fam), ipString(d.IP, fam), s.Port, d.Port))
}

func ipString(ip net.IP, fam string) string {
	if fam == "TCP6" {
		return ip.To16().String()
	}
	return ip.To4().String()
}

func proxyV2(s, d *net.TCPAddr, ok bool) []byte {
	if !ok {
		return localHeader(2)
	}
	h := append([]byte{}, v2Signature[:]...)
	var addrs []byte
	fam := byte(0x11) // TCP over IPv4
	if s4, d4 := s.IP.To4(), d.IP.To4(); s4 != nil && d4 != nil {
		addrs = append(append(addrs, s4...), d4...)
	} else {
		fam = 0x21 // TCP over IPv6
		addrs = append(append(addrs, s.IP.To16()...), d.IP.To16()...)
	}
	addrs = binary.BigEndian.AppendUint16(addrs, uint16(s.Port))
	addrs = binary.BigEndian.AppendUint16(addrs, uint16(d.Port))
	h = append(h, 0x21, fam) // version 2, PROXY command
	h = binary.BigEndian.AppendUint16(h, uint16(len(addrs)))
	return append(h, addrs...)
}

// localHeader is the PROXY protocol header of a connection with no client
// behind it, such as baton's own readiness and liveness probes: "PROXY
// UNKNOWN" in v1, the LOCAL command in v2; the worker then uses the
// connection's own addresses. A worker that expects the header rejects a
// connection without one (nginx: "broken header"). It is nil for version
// 0, no header.
func localHeader(version int) []byte {
	switch version {
	case 1:
		return []byte("PROXY UNKNOWN\r\n")
	case 2:
		return append(append([]byte{}, v2Signature[:]...), 0x20, 0x00, 0x00, 0x00) // LOCAL, UNSPEC, no address
	}
	return nil
}
