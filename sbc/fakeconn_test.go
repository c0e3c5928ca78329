package sbc

import (
	"net"
	"time"
)

// addrConn is a PacketConn that only knows its address: enough for code
// that reads LocalAddr and never does I/O.
type addrConn struct{ addr *net.UDPAddr }

func fakeAddrConn(addr string) net.PacketConn {
	a, _ := net.ResolveUDPAddr("udp", addr)
	return addrConn{a}
}

func (c addrConn) ReadFrom([]byte) (int, net.Addr, error)    { return 0, nil, net.ErrClosed }
func (c addrConn) WriteTo(b []byte, _ net.Addr) (int, error) { return len(b), nil }
func (c addrConn) Close() error                              { return nil }
func (c addrConn) LocalAddr() net.Addr                       { return c.addr }
func (c addrConn) SetDeadline(time.Time) error               { return nil }
func (c addrConn) SetReadDeadline(time.Time) error           { return nil }
func (c addrConn) SetWriteDeadline(time.Time) error          { return nil }
