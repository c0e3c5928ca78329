package media

import (
	"io"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

// Addresses of the relay tests: phone A behind a NAT (its SDP says
// 192.168.1.20, its packets come from the NAT's 198.51.100.7), PBX B public.
var (
	aSignal = netip.MustParseAddrPort("198.51.100.7:5060")
	aSDP    = netip.MustParseAddrPort("192.168.1.20:8000")
	aMapped = "198.51.100.7:41000" // the NAT's mapping of the phone's RTP port
	bSDP    = netip.MustParseAddrPort("10.0.0.10:10000")
	bRTCP   = netip.MustParseAddrPort("10.0.0.10:10001")
)

// testClock is the anchor clock, moved by hand.
type testClock struct{ ns atomic.Int64 }

func (c *testClock) now() int64              { return c.ns.Load() }
func (c *testClock) advance(d time.Duration) { c.ns.Add(int64(d)) }
func discardLogger() *slog.Logger            { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
func relayAddr(n *fakeNet, port int) netip.AddrPort {
	return netip.AddrPortFrom(n.relayIP, uint16(port))
}

// stream under test: leg a's pair at 20000/20001, leg b's at 20002/20003.
type streamRig struct {
	n     *fakeNet
	clock *testClock
	st    *relayStream
	a, b  *side
}

func newStreamRig(t *testing.T) *streamRig {
	t.Helper()
	r := newIdleStreamRig(t)
	r.st = startStream(0, r.a, r.b, r.clock.now, discardLogger(), nil)
	t.Cleanup(r.st.close)
	return r
}

// newIdleStreamRig is the rig without reader goroutines: tests call handle.
func newIdleStreamRig(t testing.TB) *streamRig {
	t.Helper()
	n := newFakeNet()
	open := func(port int) udpConn {
		pc, err := n.listen("udp", netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(port)))
		if err != nil {
			t.Fatal(err)
		}
		return asUDPConn(pc)
	}
	r := &streamRig{n: n, clock: &testClock{}}
	r.a = newSide(LegA, 20000, open(20000), open(20001))
	r.b = newSide(LegB, 20002, open(20002), open(20003))
	// Phone a: NATed, strict; no destination until it sends.
	r.a.policy.Store(&sidePolicy{signalIP: aSignal.Addr(), sdpIP: aSDP.Addr(), windowEnd: int64(10 * time.Second)})
	// PBX b: public, strict; sent to its SDP address at once.
	r.b.policy.Store(&sidePolicy{signalIP: bSDP.Addr(), sdpIP: bSDP.Addr(), windowEnd: int64(10 * time.Second)})
	r.b.rtpLatch.point(bSDP)
	r.b.rtcpLatch.point(bRTCP)
	r.st = &relayStream{sides: [2]*side{r.a, r.b}, clock: r.clock.now, log: discardLogger()}
	t.Cleanup(func() {
		for _, s := range r.st.sides {
			s.rtp.Close()
			s.rtcp.Close()
		}
	})
	return r
}

// stunBarrier returns once the relay socket at relay has handled all that
// peer sent it before: one reader serves a socket in order, and it answers
// the peer's STUN request after those packets.
func stunBarrier(t *testing.T, peer *fakeConn, relay netip.AddrPort) {
	t.Helper()
	req, err := stun.Build(stun.TransactionID, stun.BindingRequest)
	if err != nil {
		t.Fatal(err)
	}
	peer.sendTo(t, req.Raw, relay)
	if d := peer.recv(t); classify(d.data, carryRTP) != kindSTUN {
		t.Fatalf("barrier: got % x, want a STUN answer", d.data[:min(4, len(d.data))])
	}
}

func TestRelayLatchesNATedPeerOnFirstPacket(t *testing.T) {
	r := newStreamRig(t)
	phone := r.n.peer(t, aMapped)
	pbx := r.n.peer(t, bSDP.String())

	// The PBX speaks first: the phone has not been heard, so nothing can go to it.
	pbx.sendTo(t, rtpPacket(0, 1, 0, 0xb), relayAddr(r.n, 20002))
	stunBarrier(t, pbx, relayAddr(r.n, 20002))
	phone.sendTo(t, rtpPacket(0, 1, 0, 0xa), relayAddr(r.n, 20000))
	got := pbx.recv(t)
	if got.from != relayAddr(r.n, 20002) {
		t.Fatalf("PBX got media from %v, want the relay's b port", got.from)
	}
	// Now the phone is latched to its NAT mapping.
	pbx.sendTo(t, rtpPacket(0, 2, 160, 0xb), relayAddr(r.n, 20002))
	got = phone.recv(t)
	if got.from != relayAddr(r.n, 20000) {
		t.Fatalf("phone got media from %v, want the relay's a port", got.from)
	}
	if seq := got.data[3]; seq != 2 {
		t.Fatalf("phone got seq %d first; the packet sent before it latched must not be queued", seq)
	}
	if f := r.a.flow(); f.Packets != 1 || f.Bytes != uint64(len(got.data)) || f.Dropped != 0 {
		t.Fatalf("a→b %+v", f)
	}
	if f := r.b.flow(); f.Packets != 1 {
		t.Fatalf("b→a relayed %d packets, want 1 (the first had nowhere to go)", f.Packets)
	}
}

func TestRelayDropsThirdPartyAndCountsIt(t *testing.T) {
	r := newStreamRig(t)
	phone := r.n.peer(t, aMapped)
	pbx := r.n.peer(t, bSDP.String())
	attacker := r.n.peer(t, "192.0.2.66:5004")

	// RTP bleed probe towards both relay ports, inside the latch window.
	attacker.sendTo(t, rtpPacket(0, 1, 0, 0x66), relayAddr(r.n, 20000))
	attacker.sendTo(t, rtpPacket(0, 1, 0, 0x66), relayAddr(r.n, 20002))
	// Each side's real peer follows on the same socket, so when its
	// packet arrives the attacker's has been handled.
	phone.sendTo(t, rtpPacket(0, 1, 0, 0xa), relayAddr(r.n, 20000))
	if d := pbx.recv(t); d.data[11] != 0xa {
		t.Fatalf("PBX got SSRC %x, want the phone's", d.data[11])
	}
	pbx.sendTo(t, rtpPacket(0, 1, 0, 0xb), relayAddr(r.n, 20002))
	if d := phone.recv(t); d.data[11] != 0xb {
		t.Fatalf("phone got SSRC %x, want the PBX's", d.data[11])
	}
	pbx.empty(t)
	phone.empty(t)
	attacker.empty(t)
	if r.a.flow().Dropped != 1 || r.b.flow().Dropped != 1 {
		t.Fatalf("dropped a=%d b=%d, want 1 each", r.a.flow().Dropped, r.b.flow().Dropped)
	}
}

func TestRelayNoLatchAfterWindow(t *testing.T) {
	r := newStreamRig(t)
	phone := r.n.peer(t, aMapped)
	pbx := r.n.peer(t, bSDP.String())
	phone.sendTo(t, rtpPacket(0, 1, 0, 0xa), relayAddr(r.n, 20000))
	pbx.recv(t)

	// The NAT re-maps the phone after the window closed: same IP, new
	// port. Strict latching keeps the old source; the new one is dropped.
	r.clock.advance(11 * time.Second)
	moved := r.n.peer(t, "198.51.100.7:41002")
	moved.sendTo(t, rtpPacket(0, 2, 160, 0xa), relayAddr(r.n, 20000))
	phone.sendTo(t, rtpPacket(0, 3, 320, 0xa), relayAddr(r.n, 20000))
	if d := pbx.recv(t); d.data[3] != 3 {
		t.Fatalf("PBX got seq %d, want 3 (2 came from an unlatched source)", d.data[3])
	}
	if r.a.flow().Dropped != 1 {
		t.Fatalf("dropped = %d, want 1", r.a.flow().Dropped)
	}

	// A new SDP from the phone opens the window again: now it re-latches.
	p := *r.a.policy.Load()
	p.windowEnd = r.clock.now() + int64(10*time.Second)
	r.a.policy.Store(&p)
	moved.sendTo(t, rtpPacket(0, 4, 480, 0xa), relayAddr(r.n, 20000))
	if d := pbx.recv(t); d.data[3] != 4 {
		t.Fatalf("PBX got seq %d, want 4", d.data[3])
	}
	pbx.sendTo(t, rtpPacket(0, 9, 0, 0xb), relayAddr(r.n, 20002))
	moved.recv(t)
	phone.empty(t)
}

func TestRelayRelatchesPublicPeerToRealSource(t *testing.T) {
	r := newStreamRig(t)
	phone := r.n.peer(t, aMapped)
	// The PBX sends from another port than its SDP says (no symmetric RTP).
	pbxReal := r.n.peer(t, "10.0.0.10:10500")
	pbxSDP := r.n.peer(t, bSDP.String())
	phone.sendTo(t, rtpPacket(0, 1, 0, 0xa), relayAddr(r.n, 20000))
	pbxSDP.recv(t) // before the PBX is heard: its SDP address
	pbxReal.sendTo(t, rtpPacket(0, 1, 0, 0xb), relayAddr(r.n, 20002))
	phone.recv(t)
	phone.sendTo(t, rtpPacket(0, 2, 160, 0xa), relayAddr(r.n, 20000))
	pbxReal.recv(t) // re-latched to where it really sends from
	pbxSDP.empty(t)
}

func TestRelayRelaxedLatchesAnyAddressInWindow(t *testing.T) {
	r := newStreamRig(t)
	p := *r.a.policy.Load()
	p.relaxed = true
	r.a.policy.Store(&p)
	// A phone whose media leaves through another NAT address than its SIP.
	phone := r.n.peer(t, "198.51.100.99:41000")
	pbx := r.n.peer(t, bSDP.String())
	phone.sendTo(t, rtpPacket(0, 1, 0, 0xa), relayAddr(r.n, 20000))
	pbx.recv(t)
	pbx.sendTo(t, rtpPacket(0, 1, 0, 0xb), relayAddr(r.n, 20002))
	phone.recv(t)
	if r.a.flow().Dropped != 0 {
		t.Fatal("relaxed latching dropped the peer")
	}
}

func TestRelayRTCPOwnPortAndMux(t *testing.T) {
	r := newStreamRig(t)
	phoneRTP := r.n.peer(t, aMapped)
	phoneRTCP := r.n.peer(t, "198.51.100.7:41001")
	pbxRTP := r.n.peer(t, bSDP.String())
	pbxRTCP := r.n.peer(t, bRTCP.String())
	rtcp := []byte{0x80, 200, 0, 6, 0, 0, 0, 0xa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}

	// Separate ports: phone's RTCP port → PBX's a=rtcp port.
	phoneRTCP.sendTo(t, rtcp, relayAddr(r.n, 20001))
	if d := pbxRTCP.recv(t); d.from != relayAddr(r.n, 20003) {
		t.Fatalf("PBX RTCP from %v, want relay 20003", d.from)
	}
	// And back, to the phone's latched RTCP source.
	pbxRTCP.sendTo(t, rtcp, relayAddr(r.n, 20003))
	if d := phoneRTCP.recv(t); d.from != relayAddr(r.n, 20001) {
		t.Fatalf("phone RTCP from %v, want relay 20001", d.from)
	}

	// The PBX now muxes: its RTCP arrives on the RTP port and must go to
	// the phone's RTCP port, not its RTP port.
	p := *r.b.policy.Load()
	p.rtcpMux = true
	r.b.policy.Store(&p)
	pbxRTP.sendTo(t, rtcp, relayAddr(r.n, 20002))
	if d := phoneRTCP.recv(t); d.from != relayAddr(r.n, 20001) {
		t.Fatalf("demuxed RTCP from %v, want relay 20001", d.from)
	}
	// The phone's RTCP for a muxing PBX goes to the PBX's RTP port from the RTP port.
	phoneRTCP.sendTo(t, rtcp, relayAddr(r.n, 20001))
	if d := pbxRTP.recv(t); d.from != relayAddr(r.n, 20002) {
		t.Fatalf("muxed RTCP from %v, want relay 20002", d.from)
	}
	phoneRTP.empty(t)
	pbxRTCP.empty(t)
	if a, b := r.a.flow(), r.b.flow(); a.RTCPPackets != 2 || b.RTCPPackets != 2 || a.Packets != 0 || b.Packets != 0 {
		t.Fatalf("counters a→b %+v b→a %+v", a, b)
	}
}

func TestRelayAnswersSTUNAndNeverRelaysIt(t *testing.T) {
	r := newStreamRig(t)
	phone := r.n.peer(t, aMapped)
	pbx := r.n.peer(t, bSDP.String())
	stranger := r.n.peer(t, "192.0.2.66:3478")
	req, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}

	stranger.sendTo(t, req.Raw, relayAddr(r.n, 20000)) // not answered: no reflection for strangers
	phone.sendTo(t, req.Raw, relayAddr(r.n, 20000))
	d := phone.recv(t)
	resp := &stun.Message{Raw: d.data}
	if err := resp.Decode(); err != nil {
		t.Fatal(err)
	}
	var mapped stun.XORMappedAddress
	if err := mapped.GetFrom(resp); err != nil {
		t.Fatal(err)
	}
	if got := mapped.String(); got != aMapped || resp.TransactionID != req.TransactionID {
		t.Fatalf("mapped %s tx %x, want %s tx %x", got, resp.TransactionID, aMapped, req.TransactionID)
	}
	// The STUN request did not latch the phone nor reach the PBX.
	phone.sendTo(t, rtpPacket(0, 1, 0, 0xa), relayAddr(r.n, 20000))
	if d := pbx.recv(t); classify(d.data, carryRTP) != kindRTP {
		t.Fatalf("PBX got % x, want only the RTP", d.data[:4])
	}
	stranger.empty(t)
	pbx.empty(t)
}

func TestRelayIgnoresNonMedia(t *testing.T) {
	r := newStreamRig(t)
	phone := r.n.peer(t, aMapped)
	pbx := r.n.peer(t, bSDP.String())
	phone.sendTo(t, []byte("OPTIONS sip:x SIP/2.0\r\n\r\n"), relayAddr(r.n, 20000))
	phone.sendTo(t, nil, relayAddr(r.n, 20000))
	phone.sendTo(t, rtpPacket(0, 7, 0, 0xa), relayAddr(r.n, 20000))
	if d := pbx.recv(t); d.data[3] != 7 {
		t.Fatalf("PBX got % x", d.data[:4])
	}
	pbx.empty(t)
}

// Config.OnRTCP (HEP export) sees each RTCP packet relayed, from the peer
// that sent it to the peer it went to; RTP is not shown to it.
func TestRelayRTCPTapped(t *testing.T) {
	r := newIdleStreamRig(t)
	type seen struct{ from, to netip.AddrPort }
	var got []seen
	r.st.rtcp = func(from, to netip.AddrPort, pkt []byte) { got = append(got, seen{from, to}) }
	rtcp := []byte{0x80, 201, 0, 1, 0, 0, 0, 0xb}
	r.st.handle(r.b, r.b.rtcp, false, rtcp, bRTCP, nil)   // the phone's RTCP latch is not known yet
	r.st.handle(r.a, r.a.rtcp, false, rtcp, aSignal, nil) // the phone sends: latched
	r.st.handle(r.a, r.a.rtp, true, rtpPacket(0, 1, 0, 0xa), aSignal, nil)
	r.st.handle(r.b, r.b.rtcp, false, rtcp, bRTCP, nil)
	want := []seen{{aSignal, bRTCP}, {bRTCP, aSignal}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("tapped %v, want %v", got, want)
	}
}
