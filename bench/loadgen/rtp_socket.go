package loadgen

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"
)

// RTPSocket is a UDP socket the generator drives itself, outside Go's
// network poller: the worker that owns it sends with sendmmsg and drains
// it with non-blocking recvmmsg on its own ticks. Were it in the poller,
// every datagram a relay forwards would wake the runtime's epoll thread
// while the worker rests, a cross-CPU wake-up per packet that costs more
// than the packet. The kernel stamps each arrival (SO_TIMESTAMPNS), so
// packets that wait for the next tick keep their true latency, and tells
// how many it dropped at this socket (SO_RXQ_OVFL), so loss the generator
// caused itself is told apart from the target's.
type RTPSocket struct {
	fd    int
	local netip.AddrPort
	v6    bool

	mu     sync.Mutex
	closed bool
}

// ListenRTP opens an RTP socket on ip with an even ephemeral port (RFC
// 3550 §11: RTP on an even port, RTCP on the next), so relays that insist
// on the convention accept the SDP.
func ListenRTP(ip netip.Addr) (*RTPSocket, error) {
	var odd []*RTPSocket
	defer func() {
		for _, s := range odd {
			s.Close()
		}
	}()
	for range 32 {
		s, err := bindUDP(ip.Unmap())
		if err != nil {
			return nil, err
		}
		if s.local.Port()%2 == 0 {
			return s, nil
		}
		odd = append(odd, s) // held until the end so the kernel moves on
	}
	return nil, fmt.Errorf("no even UDP port on %s after 32 tries", ip)
}

func bindUDP(ip netip.Addr) (*RTPSocket, error) {
	s := &RTPSocket{v6: ip.Is6()}
	domain := unix.AF_INET6
	var sa unix.Sockaddr = &unix.SockaddrInet6{Addr: ip.As16()}
	if !s.v6 {
		domain = unix.AF_INET
		sa = &unix.SockaddrInet4{Addr: ip.As4()}
	}
	fd, err := unix.Socket(domain, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	s.fd = fd
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind %s: %w", ip, err)
	}
	for _, opt := range []struct {
		name string
		opt  int
	}{{"SO_TIMESTAMPNS", unix.SO_TIMESTAMPNS}, {"SO_RXQ_OVFL", unix.SO_RXQ_OVFL}} {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, opt.opt, 1); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("%s: %w", opt.name, err)
		}
	}
	bound, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	switch a := bound.(type) {
	case *unix.SockaddrInet4:
		s.local = netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		s.local = netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
	}
	return s, nil
}

// LocalAddr is the address the socket is bound to: what the SDP carries.
func (s *RTPSocket) LocalAddr() netip.AddrPort { return s.local }

// SetBuffers asks for bytes of kernel receive and send buffer: a tick's
// worth of packets, and more while the worker is off the CPU, must fit.
// The ordinary request is capped by net.core.rmem_max/wmem_max; with
// CAP_NET_ADMIN the FORCE variants pass the cap. It returns the receive
// buffer the kernel granted (it counts its own overhead: about twice the
// request).
func (s *RTPSocket) SetBuffers(bytes int) (int, error) {
	var errs []error
	for _, o := range [][2]int{{unix.SO_RCVBUFFORCE, unix.SO_RCVBUF}, {unix.SO_SNDBUFFORCE, unix.SO_SNDBUF}} {
		if unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, o[0], bytes) != nil {
			errs = append(errs, unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, o[1], bytes))
		}
	}
	got, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	return got, errors.Join(append(errs, err)...)
}

// Close closes the socket; its owner must have stopped using it.
func (s *RTPSocket) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return unix.Close(s.fd)
}
