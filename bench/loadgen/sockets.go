package loadgen

import (
	"fmt"
	"net"
	"net/netip"
)

// ListenRTP opens a UDP socket on ip with an even ephemeral port (RFC 3550
// §11: RTP on an even port, RTCP on the next odd one), so relays that
// insist on the convention accept the SDP.
func ListenRTP(ip netip.Addr) (*net.UDPConn, error) {
	var odd []*net.UDPConn
	defer func() {
		for _, c := range odd {
			c.Close()
		}
	}()
	for range 32 {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
		if err != nil {
			return nil, err
		}
		if localAddr(c).Port()%2 == 0 {
			return c, nil
		}
		odd = append(odd, c) // kept open until the end so the kernel moves on
	}
	return nil, fmt.Errorf("no even UDP port on %s after 32 tries", ip)
}
