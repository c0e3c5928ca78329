//go:build linux

package media

import (
	"errors"
	"net"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawSocket is a relay socket served by the packet engine: the descriptor
// of a UDP socket, taken out of Go's netpoller so that only the engine's
// epoll sees its packets. Only the worker that serves it reads, writes and
// closes it.
type rawSocket struct {
	fd     int
	family int // AF_INET or AF_INET6: how destinations are addressed
}

var errEngineSocket = errors.New("media: socket is served by the packet engine")

// dupUDPConn duplicates c's descriptor; the duplicate is not registered
// with Go's netpoller (the engine's epoll takes it), and c stays open
// until the caller closes it.
func dupUDPConn(c *net.UDPConn) (*rawSocket, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var fd, family int
	var opErr error
	if err := rc.Control(func(orig uintptr) {
		if family, opErr = unix.GetsockoptInt(int(orig), unix.SOL_SOCKET, unix.SO_DOMAIN); opErr != nil {
			return
		}
		fd, opErr = unix.FcntlInt(orig, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if opErr != nil {
		return nil, opErr
	}
	// Go made the socket non-blocking; the flag is the socket's, so the
	// duplicate shares it, and the engine's reads must never block.
	return &rawSocket{fd: fd, family: family}, nil
}

// WriteToUDPAddrPort sends b to addr without blocking: a full send buffer
// loses the datagram, as UDP may.
func (s *rawSocket) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	var sa unix.RawSockaddrInet6
	l := putSockaddr(&sa, addr, s.family)
	if l == 0 || len(b) == 0 {
		return 0, unix.EAFNOSUPPORT
	}
	r, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(s.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		unix.MSG_DONTWAIT, uintptr(unsafe.Pointer(&sa)), uintptr(l))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// ReadFromUDPAddrPort is not how an engine socket is read: its worker
// drains it with recvmmsg.
func (s *rawSocket) ReadFromUDPAddrPort([]byte) (int, netip.AddrPort, error) {
	return 0, netip.AddrPort{}, errEngineSocket
}

// Close closes the descriptor; the engine calls it once the socket is out
// of its epoll set.
func (s *rawSocket) Close() error { return unix.Close(s.fd) }
