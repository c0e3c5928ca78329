package main

import (
	"fmt"
	"io"
	"net"
	"net/netip"

	"github.com/natsbc/natsbc/bench/loadgen"
)

// openSockets opens what the mode needs: one RTP socket per worker on each
// side (even ports, large buffers) and, in sip mode, the caller's and the
// callee's SIP sockets. closeAll closes whatever was opened.
func openSockets(o options, stderr io.Writer) (loadgen.Sockets, func(), error) {
	var closers []io.Closer
	closeAll := func() {
		for _, c := range closers {
			c.Close()
		}
	}
	fail := func(err error) (loadgen.Sockets, func(), error) {
		closeAll()
		return loadgen.Sockets{}, func() {}, err
	}
	var s loadgen.Sockets
	for range o.workers {
		for _, side := range []struct {
			socks *[]*loadgen.RTPSocket
			ip    netip.Addr
		}{{&s.UACRTP, o.uacIP}, {&s.UASRTP, o.uas.Addr()}} {
			rtp, err := loadgen.ListenRTP(side.ip)
			if err != nil {
				return fail(fmt.Errorf("cannot open an RTP socket on %s: %w", side.ip, err))
			}
			closers = append(closers, rtp)
			*side.socks = append(*side.socks, rtp)
			got, err := rtp.SetBuffers(o.sockBuf)
			if err != nil || got < o.sockBuf {
				fmt.Fprintf(stderr, "loadgen: warning: RTP socket buffer %d bytes, asked for %d (%v); "+
					"raise net.core.rmem_max/wmem_max or run as root\n", got, o.sockBuf, err)
			}
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
			closers = append(closers, c)
			*side.conn = c
		}
	}
	return s, closeAll, nil
}
