package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeNet is an in-memory UDP network: relay sockets (bound to the
// unspecified address) appear at relayIP, peers at the address they ask
// for. Datagrams travel over channels, so tests under testing/synctest
// see readers as durably blocked.
type fakeNet struct {
	relayIP netip.Addr

	mu     sync.Mutex
	conns  map[netip.AddrPort]*fakeConn
	refuse map[uint16]bool // ports another program holds
	binds  int
	// closeGate, when set, holds every Close until it is closed.
	closeGate chan struct{}
}

func newFakeNet() *fakeNet {
	return &fakeNet{
		relayIP: netip.MustParseAddr("203.0.113.1"),
		conns:   map[netip.AddrPort]*fakeConn{},
		refuse:  map[uint16]bool{},
	}
}

type datagram struct {
	data []byte
	from netip.AddrPort
}

func (n *fakeNet) listen(_ string, laddr netip.AddrPort) (net.PacketConn, error) {
	if laddr.Addr().IsUnspecified() {
		laddr = netip.AddrPortFrom(n.relayIP, laddr.Port())
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.binds++
	if _, taken := n.conns[laddr]; taken || n.refuse[laddr.Port()] {
		return nil, &net.OpError{Op: "listen", Net: "udp", Err: syscall.EADDRINUSE}
	}
	c := &fakeConn{net: n, addr: laddr, in: make(chan datagram, 256), done: make(chan struct{})}
	n.conns[laddr] = c
	return c, nil
}

// peer opens a peer's socket at addr ("ip:port").
func (n *fakeNet) peer(t testing.TB, addr string) *fakeConn {
	t.Helper()
	pc, err := n.listen("udp", netip.MustParseAddrPort(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.(*fakeConn)
}

func (n *fakeNet) open(addr netip.AddrPort) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.conns[addr]
	return ok
}

type fakeConn struct {
	net  *fakeNet
	addr netip.AddrPort
	in   chan datagram
	done chan struct{}
	once sync.Once
}

func (c *fakeConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	select {
	case d := <-c.in:
		return copy(b, d.data), d.from, nil
	case <-c.done:
		return 0, netip.AddrPort{}, net.ErrClosed
	}
}

// WriteToUDPAddrPort delivers like UDP: to nobody if nothing listens, and
// not at all if the receiver's queue is full.
func (c *fakeConn) WriteToUDPAddrPort(b []byte, to netip.AddrPort) (int, error) {
	select {
	case <-c.done:
		return 0, net.ErrClosed
	default:
	}
	c.net.mu.Lock()
	dst := c.net.conns[to]
	c.net.mu.Unlock()
	if dst == nil {
		return len(b), nil
	}
	select {
	case dst.in <- datagram{append([]byte(nil), b...), c.addr}:
	default:
	}
	return len(b), nil
}

func (c *fakeConn) Close() error {
	c.net.mu.Lock()
	gate := c.net.closeGate
	c.net.mu.Unlock()
	if gate != nil {
		<-gate
	}
	c.once.Do(func() {
		close(c.done)
		c.net.mu.Lock()
		delete(c.net.conns, c.addr)
		c.net.mu.Unlock()
	})
	return nil
}

func (c *fakeConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.ReadFromUDPAddrPort(b)
	return n, net.UDPAddrFromAddrPort(from), err
}

func (c *fakeConn) WriteTo(b []byte, to net.Addr) (int, error) {
	ua, ok := to.(*net.UDPAddr)
	if !ok {
		return 0, errors.New("fakeConn: not a UDP address")
	}
	return c.WriteToUDPAddrPort(b, ua.AddrPort())
}

func (c *fakeConn) LocalAddr() net.Addr              { return net.UDPAddrFromAddrPort(c.addr) }
func (c *fakeConn) SetDeadline(time.Time) error      { return nil }
func (c *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error { return nil }
func (c *fakeConn) String() string                   { return fmt.Sprint("fake ", c.addr) }
func (c *fakeConn) sendTo(t testing.TB, b []byte, to netip.AddrPort) {
	t.Helper()
	if _, err := c.WriteToUDPAddrPort(b, to); err != nil {
		t.Fatal(err)
	}
}

// recv waits for the next datagram; the timeout only bounds a failing test.
func (c *fakeConn) recv(t testing.TB) datagram {
	t.Helper()
	select {
	case d := <-c.in:
		return d
	case <-time.After(5 * time.Second):
		t.Fatalf("%v: nothing arrived", c.addr)
		return datagram{}
	}
}

// empty asserts nothing is queued (call after a later packet proved the
// relay handled the earlier ones).
func (c *fakeConn) empty(t testing.TB) {
	t.Helper()
	select {
	case d := <-c.in:
		t.Fatalf("%v: unexpected datagram from %v: % x", c.addr, d.from, d.data[:min(len(d.data), 16)])
	default:
	}
}
