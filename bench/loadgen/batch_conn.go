package loadgen

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is struct mmsghdr of recvmmsg(2)/sendmmsg(2). Go rounds its size up
// to the alignment of Msghdr, which is exactly the C layout on every arch.
type mmsghdr struct {
	Hdr unix.Msghdr
	Len uint32
}

// BatchConn moves many datagrams per system call with recvmmsg(2) and
// sendmmsg(2) on an RTPSocket. x/net's ipv4.PacketConn batches too, but
// allocates a source address per received datagram and lives in Go's
// poller; this one allocates nothing after newBatchConn. A BatchConn serves
// one goroutine: it owns the kernel headers it fills.
type BatchConn struct {
	fd    int
	v6    bool
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6
	oob   []byte // per message: room for one SCM_TIMESTAMPNS
}

// NewBatchConn wraps s for batches of at most size datagrams.
func NewBatchConn(s *RTPSocket, size int) *BatchConn {
	if size <= 0 {
		size = DefaultBatch
	}
	b := &BatchConn{
		fd:    s.fd,
		v6:    s.v6,
		hdrs:  make([]mmsghdr, size),
		iovs:  make([]unix.Iovec, size),
		names: make([]unix.RawSockaddrInet6, size),
		oob:   make([]byte, size*oobLen),
	}
	for i := range b.hdrs {
		b.hdrs[i].Hdr.Iov = &b.iovs[i]
		b.hdrs[i].Hdr.SetIovlen(1)
	}
	return b
}

// ReadBatch fills as many of ms as datagrams are queued (up to the batch
// size) without waiting, and returns how many it filled: 0 when none are.
func (b *BatchConn) ReadBatch(ms []Message) (int, error) {
	n := min(len(ms), len(b.hdrs))
	if n == 0 {
		return 0, nil
	}
	for i := range n {
		b.point(i, ms[i].Buf, nil, 0, &b.oob[i*oobLen], oobLen)
	}
	got, err := b.mmsg(unix.SYS_RECVMMSG, n, unix.MSG_DONTWAIT)
	if err == unix.EAGAIN {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("recvmmsg: %w", err)
	}
	for i := range got {
		ms[i].N = int(b.hdrs[i].Len)
		ms[i].RxNs, ms[i].Drops = parseOOB(b.oob[i*oobLen:][:b.hdrs[i].Hdr.Controllen])
	}
	return got, nil
}

// WriteBatch sends ms[i].Buf to ms[i].Addr, as many as one batch holds, and
// returns how many the kernel took. It never waits: with the send buffer
// full it returns 0 and ErrWouldBlock. A short count with a nil error means
// the kernel stopped early; another error means ms[0] failed.
func (b *BatchConn) WriteBatch(ms []Message) (int, error) {
	n := min(len(ms), len(b.hdrs))
	if n == 0 {
		return 0, nil
	}
	for i := range n {
		namelen, err := b.putSockaddr(i, ms[i])
		if err != nil {
			return 0, err
		}
		b.point(i, ms[i].Buf, (*byte)(unsafe.Pointer(&b.names[i])), namelen, nil, 0)
	}
	got, err := b.mmsg(unix.SYS_SENDMMSG, n, unix.MSG_DONTWAIT)
	if err == unix.EAGAIN {
		return 0, ErrWouldBlock
	}
	if err != nil {
		return 0, fmt.Errorf("sendmmsg: %w", err)
	}
	return got, nil
}

// ErrWouldBlock: the socket's send buffer is full; try again shortly.
var ErrWouldBlock = errors.New("send buffer full")

// point aims header i at a datagram buffer, a peer address (sendmmsg) and
// a control buffer (recvmmsg).
func (b *BatchConn) point(i int, buf []byte, name *byte, namelen uint32, control *byte, controllen int) {
	b.iovs[i].Base = unsafe.SliceData(buf)
	b.iovs[i].SetLen(len(buf))
	h := &b.hdrs[i]
	h.Hdr.Name, h.Hdr.Namelen = name, namelen
	h.Hdr.Control = control
	h.Hdr.SetControllen(controllen)
	h.Len = 0
}

// mmsg runs one recvmmsg/sendmmsg over the first n headers, retrying when
// a signal interrupts it. Both are called with MSG_DONTWAIT and so never
// block: they go straight to the kernel (RawSyscall) without handing the
// goroutine's P to the scheduler. A send of a batch takes tens of µs on
// loopback, long enough for the runtime to hand the P off to another
// thread on every call otherwise, which cost more than the send.
func (b *BatchConn) mmsg(trap uintptr, n int, flags int) (int, error) {
	for {
		r, _, e := unix.RawSyscall6(trap, uintptr(b.fd), uintptr(unsafe.Pointer(&b.hdrs[0])),
			uintptr(n), uintptr(flags), 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(r), nil
	}
}

// oobLen fits the two control messages a datagram brings: its arrival
// time (SCM_TIMESTAMPNS, a struct timespec) and the socket's drop counter
// (SO_RXQ_OVFL, a uint32).
var oobLen = unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{}))) + unix.CmsgSpace(4)

// parseOOB reads a datagram's control messages (socket(7)): when the
// kernel received it (CLOCK_REALTIME ns, 0 if absent) and how many
// datagrams the socket has dropped since it was opened, for want of buffer
// space (0 if absent).
func parseOOB(oob []byte) (rxNs int64, drops uint32) {
	hdrLen := unix.CmsgLen(0)
	for len(oob) >= hdrLen {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		if int(h.Len) < hdrLen || int(h.Len) > len(oob) {
			break
		}
		data := oob[hdrLen:h.Len]
		if h.Level == unix.SOL_SOCKET {
			switch {
			case h.Type == unix.SCM_TIMESTAMPNS && len(data) >= int(unsafe.Sizeof(unix.Timespec{})):
				rxNs = (*unix.Timespec)(unsafe.Pointer(&data[0])).Nano()
			case h.Type == unix.SO_RXQ_OVFL && len(data) >= 4:
				drops = *(*uint32)(unsafe.Pointer(&data[0]))
			}
		}
		next := unix.CmsgSpace(int(h.Len) - hdrLen)
		if next >= len(oob) {
			break
		}
		oob = oob[next:]
	}
	return rxNs, drops
}

var errAddrFamily = errors.New("destination is IPv6 but the socket is IPv4")

// putSockaddr writes the destination of ms into names[i] in the socket's
// family: an IPv4 destination on an IPv6 socket becomes ::ffff:a.b.c.d.
func (b *BatchConn) putSockaddr(i int, m Message) (uint32, error) {
	ip := m.Addr.Addr()
	port := m.Addr.Port()
	if !b.v6 {
		ip = ip.Unmap()
		if !ip.Is4() {
			return 0, errAddrFamily
		}
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&b.names[i]))
		sa.Family = unix.AF_INET
		putPort(&sa.Port, port)
		sa.Addr = ip.As4()
		return unix.SizeofSockaddrInet4, nil
	}
	sa := &b.names[i]
	sa.Family = unix.AF_INET6
	putPort(&sa.Port, port)
	sa.Flowinfo = 0
	sa.Addr = ip.As16()
	sa.Scope_id = 0
	return unix.SizeofSockaddrInet6, nil
}

// putPort stores a port in network byte order, whatever the host's order.
func putPort(dst *uint16, port uint16) {
	p := (*[2]byte)(unsafe.Pointer(dst))
	p[0] = byte(port >> 8)
	p[1] = byte(port)
}
