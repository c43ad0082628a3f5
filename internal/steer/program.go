package steer

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// Offsets in struct bpf_sk_lookup (include/uapi/linux/bpf.h).
const (
	offFamily    = 8
	offProtocol  = 12
	offLocalIP4  = 40
	offLocalIP6  = 44
	offLocalPort = 60
)

const (
	afInet      = 2
	afInet6     = 10
	ipProtoTCP  = 6
	skPass      = 1
	labelPass   = "pass"
	labelPicked = "picked"
)

// Address is one public listening address the program steers.
type Address struct {
	// IP is the bound address; the zero value or an unspecified address
	// (0.0.0.0, ::) matches every local address of the family.
	IP   netip.Addr
	Port uint16
	// DualStack: an IPv6 wildcard listener that also takes IPv4.
	DualStack bool
}

// match is one (family, address, port) the program compares a lookup with.
type match struct {
	family uint32
	ip     []byte // 4 or 16 bytes in network order; nil: any
	port   uint16
}

func matches(addrs []Address) []match {
	var ms []match
	for _, a := range addrs {
		ip := a.IP.Unmap()
		switch {
		case !ip.IsValid() || ip.IsUnspecified() && ip.Is4():
			ms = append(ms, match{family: afInet, port: a.Port})
			if !ip.IsValid() {
				ms = append(ms, match{family: afInet6, port: a.Port})
			}
		case ip.IsUnspecified():
			ms = append(ms, match{family: afInet6, port: a.Port})
			if a.DualStack {
				ms = append(ms, match{family: afInet, port: a.Port})
			}
		case ip.Is4():
			b := ip.As4()
			ms = append(ms, match{family: afInet, ip: b[:], port: a.Port})
		default:
			b := ip.As16()
			ms = append(ms, match{family: afInet6, ip: b[:], port: a.Port})
		}
	}
	return ms
}

// instructions is the sk_lookup program: for a TCP connection to one of
// addrs, pick slot (cursor++ % count) of socks and assign its socket;
// anything else, or a failed pick or assignment, passes on unchanged.
//
//	r6 = ctx; r7 = count, then the socket; r8 = cursor
func instructions(addrs []Address, socks, count, cursor *ebpf.Map) asm.Instructions {
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R2, asm.R6, offProtocol, asm.Word),
		asm.JNE.Imm32(asm.R2, ipProtoTCP, labelPass),
		asm.LoadMem(asm.R2, asm.R6, offLocalPort, asm.Word),
		asm.LoadMem(asm.R3, asm.R6, offFamily, asm.Word),
	}
	for i, m := range matches(addrs) {
		next := fmt.Sprintf("next%d", i)
		insns = append(insns,
			asm.JNE.Imm32(asm.R3, int32(m.family), next),
			asm.JNE.Imm32(asm.R2, int32(m.port), next),
		)
		off := int16(offLocalIP4)
		if m.family == afInet6 {
			off = offLocalIP6
		}
		for w := 0; w+4 <= len(m.ip); w += 4 {
			insns = append(insns,
				asm.LoadMem(asm.R4, asm.R6, off+int16(w), asm.Word),
				asm.JNE.Imm32(asm.R4, int32(binary.NativeEndian.Uint32(m.ip[w:w+4])), next),
			)
		}
		insns = append(insns, asm.Ja.Label(labelPicked), asm.Mov.Imm(asm.R4, 0).WithSymbol(next))
	}
	insns = append(insns,
		asm.Ja.Label(labelPass),
		// key 0 on the stack, for count and cursor
		asm.StoreImm(asm.RFP, -4, 0, asm.Word).WithSymbol(labelPicked),
		asm.LoadMapPtr(asm.R1, count.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, labelPass),
		asm.LoadMem(asm.R7, asm.R0, 0, asm.Word),
		asm.JEq.Imm(asm.R7, 0, labelPass),
		asm.LoadMapPtr(asm.R1, cursor.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, labelPass),
		asm.LoadMem(asm.R8, asm.R0, 0, asm.Word),
		asm.Mov.Reg(asm.R9, asm.R8),
		asm.Add.Imm(asm.R9, 1),
		asm.StoreMem(asm.R0, 0, asm.R9, asm.Word),
		asm.Mod.Reg32(asm.R8, asm.R7),
		asm.StoreMem(asm.RFP, -8, asm.R8, asm.Word),
		asm.LoadMapPtr(asm.R1, socks.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -8),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, labelPass),
		asm.Mov.Reg(asm.R7, asm.R0),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.Mov.Reg(asm.R2, asm.R7),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnSkAssign.Call(),
		asm.Mov.Reg(asm.R1, asm.R7),
		asm.FnSkRelease.Call(),
		asm.Mov.Imm(asm.R0, skPass).WithSymbol(labelPass),
		asm.Return(),
	)
	return insns
}
