//go:build linux

package loadgen

import (
	"errors"
	"fmt"
	"net"
	"syscall"
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
// sendmmsg(2), through the socket's RawConn so Go's poller still waits for
// readiness and deadlines still work. x/net's ipv4.PacketConn does the same
// but allocates a source address per received datagram; this one allocates
// nothing after NewBatchConn. A BatchConn serves one goroutine (it owns the
// kernel headers it fills); several BatchConns may share one *net.UDPConn.
type BatchConn struct {
	raw   syscall.RawConn
	v6    bool
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6
	oob   []byte // per message: room for one SCM_TIMESTAMPNS

	// State of the call in flight, read by the bound functions below so that
	// passing them to RawConn allocates no closure per call.
	batch   []mmsghdr
	done    int
	errno   syscall.Errno
	readFn  func(fd uintptr) bool
	writeFn func(fd uintptr) bool
}

// NewBatchConn wraps c for batches of at most size datagrams.
func NewBatchConn(c *net.UDPConn, size int) (*BatchConn, error) {
	if size <= 0 {
		size = DefaultBatch
	}
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	domain, err := socketDomain(raw)
	if err != nil {
		return nil, err
	}
	b := &BatchConn{
		raw:   raw,
		v6:    domain == unix.AF_INET6,
		hdrs:  make([]mmsghdr, size),
		iovs:  make([]unix.Iovec, size),
		names: make([]unix.RawSockaddrInet6, size),
		oob:   make([]byte, size*oobLen),
	}
	for i := range b.hdrs {
		b.hdrs[i].Hdr.Iov = &b.iovs[i]
		b.hdrs[i].Hdr.SetIovlen(1)
	}
	b.readFn = b.recvmmsg
	b.writeFn = b.sendmmsg
	return b, nil
}

func socketDomain(raw syscall.RawConn) (int, error) {
	var domain int
	var serr error
	if err := raw.Control(func(fd uintptr) {
		domain, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
	}); err != nil {
		return 0, err
	}
	return domain, serr
}

// ReadBatch waits for at least one datagram and fills as many of ms as are
// queued (up to the batch size). It returns how many it filled.
func (b *BatchConn) ReadBatch(ms []Message) (int, error) {
	n := min(len(ms), len(b.hdrs))
	if n == 0 {
		return 0, nil
	}
	for i := range n {
		b.iovs[i].Base = unsafe.SliceData(ms[i].Buf)
		b.iovs[i].SetLen(len(ms[i].Buf))
		b.hdrs[i].Hdr.Name = nil
		b.hdrs[i].Hdr.Namelen = 0
		b.hdrs[i].Hdr.Control = &b.oob[i*oobLen]
		b.hdrs[i].Hdr.SetControllen(oobLen)
		b.hdrs[i].Len = 0
	}
	b.batch = b.hdrs[:n]
	if err := b.raw.Read(b.readFn); err != nil {
		return 0, err
	}
	if b.errno != 0 {
		return 0, fmt.Errorf("recvmmsg: %w", b.errno)
	}
	for i := range b.done {
		ms[i].N = int(b.hdrs[i].Len)
		ms[i].RxNs = rxTimestamp(b.oob[i*oobLen:][:b.hdrs[i].Hdr.Controllen])
	}
	return b.done, nil
}

// oobLen fits one control message carrying a struct timespec.
var oobLen = unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{})))

// rxTimestamp reads the SCM_TIMESTAMPNS control message (socket(7)): when
// the kernel received the datagram, CLOCK_REALTIME in ns; 0 if absent.
func rxTimestamp(oob []byte) int64 {
	hdrLen := unix.CmsgLen(0)
	for len(oob) >= hdrLen {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		if int(h.Len) < hdrLen || int(h.Len) > len(oob) {
			return 0
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS &&
			int(h.Len) >= hdrLen+int(unsafe.Sizeof(unix.Timespec{})) {
			ts := (*unix.Timespec)(unsafe.Pointer(&oob[hdrLen]))
			return ts.Nano()
		}
		next := unix.CmsgSpace(int(h.Len) - hdrLen)
		if next > len(oob) {
			return 0
		}
		oob = oob[next:]
	}
	return 0
}

// EnableRxTimestamps asks the kernel to stamp every datagram arriving at c
// with its receive time (SO_TIMESTAMPNS), so ReadBatch reports when a
// packet arrived, however long it then waited in the socket buffer.
func EnableRxTimestamps(c *net.UDPConn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	}); err != nil {
		return err
	}
	return serr
}

// WriteBatch sends ms[i].Buf to ms[i].Addr, as many as one batch holds, and
// returns how many the kernel took. A short count with a nil error means the
// kernel stopped early; a short count with an error means ms[n] failed.
func (b *BatchConn) WriteBatch(ms []Message) (int, error) {
	n := min(len(ms), len(b.hdrs))
	if n == 0 {
		return 0, nil
	}
	for i := range n {
		b.iovs[i].Base = unsafe.SliceData(ms[i].Buf)
		b.iovs[i].SetLen(len(ms[i].Buf))
		namelen, err := b.putSockaddr(i, ms[i])
		if err != nil {
			return 0, err
		}
		b.hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		b.hdrs[i].Hdr.Namelen = namelen
	}
	b.batch = b.hdrs[:n]
	if err := b.raw.Write(b.writeFn); err != nil {
		return 0, err
	}
	if b.errno != 0 {
		return 0, fmt.Errorf("sendmmsg: %w", b.errno)
	}
	return b.done, nil
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

func (b *BatchConn) recvmmsg(fd uintptr) bool {
	return b.mmsg(unix.SYS_RECVMMSG, fd)
}

func (b *BatchConn) sendmmsg(fd uintptr) bool {
	return b.mmsg(unix.SYS_SENDMMSG, fd)
}

// mmsg runs one recvmmsg/sendmmsg on the non-blocking socket. It returns
// false on EAGAIN so the RawConn waits for readiness and calls it again.
func (b *BatchConn) mmsg(trap uintptr, fd uintptr) bool {
	for {
		r, _, e := unix.Syscall6(trap, fd, uintptr(unsafe.Pointer(&b.batch[0])),
			uintptr(len(b.batch)), 0, 0, 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		b.done, b.errno = int(r), e
		if e != 0 {
			b.done = 0
		}
		return true
	}
}
