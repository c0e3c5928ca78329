//go:build linux

package natlab

import (
	"encoding/binary"
	"net/netip"
	"os/exec"
	"testing"
)

// The stranger: a host on the outside segment that is no party to any
// call, in a namespace of its own, linked straight to natsbc's edge.
const (
	NSExt      = "ext"
	StrangerIP = "203.0.113.7"
)

// injectTag starts the payload of the stranger's packets; rtpeer counts
// packets carrying it apart (its InjectTag), so a test can assert that
// none reached an endpoint.
const injectTag = "NATLAB-INJECT"

// AddStranger adds the stranger's namespace: StrangerIP/32 on a veth to
// the edge namespace, with host routes both ways, so it reaches natsbc's
// outside address (and only that) like any host on the Internet. It goes
// away in t.Cleanup.
func (l *Lab) AddStranger(t *testing.T) {
	t.Helper()
	ns := l.NS(NSExt)
	l.mustRun(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	l.mustRun(t, "ip", "-n", ns, "link", "set", "lo", "up")
	l.link(t, NSEdge, "ext0", NSExt, "eth0")
	l.addr(t, NSExt, "eth0", StrangerIP+"/32")
	l.mustRun(t, "ip", "-n", ns, "route", "add", EdgeOutIP+"/32", "dev", "eth0")
	l.mustRun(t, "ip", "-n", l.NS(NSEdge), "route", "add", StrangerIP+"/32", "dev", "ext0")
}

// Inject sends count RTP packets (PT 0, 160-byte payload starting with
// injectTag, an SSRC of its own) from the stranger to natsbc's outside
// address at port, as an RTP bleed or injection attempt would.
func (l *Lab) Inject(t *testing.T, port uint16, count int) {
	t.Helper()
	conn := l.DialUDP(t, NSExt, netip.AddrPortFrom(netip.MustParseAddr(EdgeOutIP), port).String())
	payload := make([]byte, 160)
	copy(payload, injectTag)
	for i := range count {
		pkt := []byte{0x80, 0} // RFC 3550 §5.1: version 2, PT 0
		pkt = binary.BigEndian.AppendUint16(pkt, uint16(i))
		pkt = binary.BigEndian.AppendUint32(pkt, uint32(160*i))
		pkt = binary.BigEndian.AppendUint32(pkt, 0x5717a9e5)
		if _, err := conn.Write(append(pkt, payload...)); err != nil {
			t.Fatalf("stranger to port %d: %v", port, err)
		}
	}
}
