//go:build linux

package media

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr mirrors struct mmsghdr of recvmmsg(2)/sendmmsg(2): a msghdr and
// the byte count of that message. Go pads it as C does on every arch.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// msgBatch is a reusable set of datagram slots (buffer, address, header)
// for recvmmsg (and sendmmsg in the load generator): one syscall moves
// many datagrams, and nothing is allocated per datagram. A batch belongs
// to one goroutine.
type msgBatch struct {
	msgs  []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6 // large enough for IPv4 and IPv6
	bufs  [][]byte
}

func newMsgBatch(count, size int) *msgBatch {
	b := &msgBatch{
		msgs:  make([]mmsghdr, count),
		iovs:  make([]unix.Iovec, count),
		names: make([]unix.RawSockaddrInet6, count),
		bufs:  make([][]byte, count),
	}
	backing := make([]byte, count*size)
	for i := range b.msgs {
		b.bufs[i] = backing[i*size : (i+1)*size : (i+1)*size]
		b.iovs[i].Base = &b.bufs[i][0]
		b.msgs[i].hdr.Iov = &b.iovs[i]
		b.msgs[i].hdr.SetIovlen(1)
		b.msgs[i].hdr.Name = (*byte)(unsafe.Pointer(&b.names[i]))
	}
	return b
}

// recv reads up to len(b.msgs) queued datagrams from fd without blocking.
func (b *msgBatch) recv(fd int) (int, error) {
	for i := range b.msgs {
		b.iovs[i].SetLen(len(b.bufs[i]))
		b.msgs[i].hdr.Namelen = unix.SizeofSockaddrInet6
		b.msgs[i].hdr.Flags = 0
	}
	r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&b.msgs[0])),
		uintptr(len(b.msgs)), unix.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// packet is datagram i of the last recv and where it came from (an IPv4
// source on a dual-stack socket already unmapped).
func (b *msgBatch) packet(i int) ([]byte, netip.AddrPort) {
	return b.bufs[i][:b.msgs[i].n], sockaddrToAddrPort(&b.names[i], b.msgs[i].hdr.Namelen)
}

// sockaddrToAddrPort reads an AF_INET or AF_INET6 address the kernel wrote.
func sockaddrToAddrPort(sa *unix.RawSockaddrInet6, l uint32) netip.AddrPort {
	switch {
	case sa.Family == unix.AF_INET6 && l >= unix.SizeofSockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), ntohs(sa.Port))
	case sa.Family == unix.AF_INET && l >= unix.SizeofSockaddrInet4:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), ntohs(sa4.Port))
	}
	return netip.AddrPort{}
}

// putSockaddr writes dst as a socket of family takes it (IPv4 as
// ::ffff:a.b.c.d on an IPv6 socket) and returns its length, 0 when the
// socket cannot reach dst.
func putSockaddr(sa *unix.RawSockaddrInet6, dst netip.AddrPort, family int) uint32 {
	ip := dst.Addr()
	switch {
	case family == unix.AF_INET6:
		*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Port: htons(dst.Port()), Addr: ip.As16()}
		return unix.SizeofSockaddrInet6
	case family == unix.AF_INET && ip.Unmap().Is4():
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Port: htons(dst.Port()), Addr: ip.Unmap().As4()}
		return unix.SizeofSockaddrInet4
	}
	return 0
}

// The sockaddr port is in network byte order in memory.
func ntohs(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}

func htons(p uint16) uint16 {
	var n uint16
	b := (*[2]byte)(unsafe.Pointer(&n))
	b[0], b[1] = byte(p>>8), byte(p)
	return n
}
