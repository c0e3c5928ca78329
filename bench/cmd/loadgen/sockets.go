package main

import (
	"fmt"
	"io"
	"net"
	"net/netip"

	"github.com/natsbc/natsbc/bench/loadgen"
)

// openSockets opens what the mode needs: an RTP socket per side (even
// port, large buffers) and, in sip mode, the caller's and the callee's SIP
// sockets. closeAll closes whatever was opened.
func openSockets(o options, stderr io.Writer) (loadgen.Sockets, func(), error) {
	var opened []*net.UDPConn
	closeAll := func() {
		for _, c := range opened {
			c.Close()
		}
	}
	fail := func(err error) (loadgen.Sockets, func(), error) {
		closeAll()
		return loadgen.Sockets{}, func() {}, err
	}
	var s loadgen.Sockets
	for _, side := range []struct {
		conn **net.UDPConn
		ip   netip.Addr
	}{{&s.UACRTP, o.uacIP}, {&s.UASRTP, o.uas.Addr()}} {
		c, err := loadgen.ListenRTP(side.ip)
		if err != nil {
			return fail(fmt.Errorf("cannot open an RTP socket on %s: %w", side.ip, err))
		}
		opened = append(opened, c)
		*side.conn = c
		got, err := loadgen.TuneBuffers(c, o.sockBuf)
		if err != nil || got < o.sockBuf {
			fmt.Fprintf(stderr, "loadgen: warning: RTP socket buffer %d bytes, asked for %d (%v); raise net.core.rmem_max/wmem_max or run as root\n",
				got, o.sockBuf, err)
		}
	}
	if o.cfg.Mode == loadgen.ModeSIP {
		for _, side := range []struct {
			conn **net.UDPConn
			addr netip.AddrPort
		}{{&s.UACSIP, netip.AddrPortFrom(o.uacIP, uint16(o.uacPort))}, {&s.UASSIP, o.uas}} {
			c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(side.addr))
			if err != nil {
				return fail(fmt.Errorf("cannot listen on udp %s: %w", side.addr, err))
			}
			opened = append(opened, c)
			*side.conn = c
		}
	}
	return s, closeAll, nil
}
