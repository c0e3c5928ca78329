package loadgen

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// readSIP waits for the next SIP message on c (the deadline only guards a
// failure) and returns it with its source.
func readSIP(t *testing.T, c *net.UDPConn) (*sipMessage, netip.AddrPort) {
	t.Helper()
	buf := make([]byte, 65535)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, src, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("waiting for a SIP message on %s: %v", c.LocalAddr(), err)
	}
	m, err := parseSIP(buf[:n])
	if err != nil {
		t.Fatalf("bad SIP message: %v\n%s", err, buf[:n])
	}
	return m, src
}

// readSIPMethod skips messages until one with the given method (request)
// arrives: retransmissions may come first.
func readSIPMethod(t *testing.T, c *net.UDPConn, method string) (*sipMessage, netip.AddrPort) {
	t.Helper()
	for {
		m, src := readSIP(t, c)
		if m.request && m.method == method {
			return m, src
		}
	}
}

func TestCallerFollowsTheRouteSetForAckAndBye(t *testing.T) {
	// The test plays a record-routing proxy in front of the callee. The
	// 2xx lists a far proxy and this one (nearest the caller last): the
	// caller must send ACK and BYE to this proxy, with Route in reverse
	// Record-Route order and the callee's Contact as Request-URI.
	proxy := listenLoopback(t)
	far := "<sip:127.0.0.1:9;lr>"
	near := fmt.Sprintf("<sip:%s;lr>", addrOf(proxy))
	contact := "sip:callee@127.0.0.1:7"
	s, err := startSIP(SIPConfig{UAC: listenLoopback(t), UAS: listenLoopback(t), Target: addrOf(proxy),
		UASHost: "127.0.0.1:5080", Calls: 1, Rate: 1, UACRTP: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:4000")},
		UASRTP: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:4002")}, PTime: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	s.uac.invite(0, time.Now())

	inv, src := readSIPMethod(t, proxy, "INVITE")
	if inv.ruri != "sip:bench-0@127.0.0.1:5080" || inv.contact == "" {
		t.Fatalf("INVITE R-URI %q Contact %q", inv.ruri, inv.contact)
	}
	inv.recordRoute = []string{far, near}
	ok := response(inv, 200, "OK", "callee-tag", contact, sdpBody(netip.MustParseAddrPort("127.0.0.1:5000"), 0, 20*time.Millisecond))
	proxy.WriteToUDPAddrPort(response(inv, 180, "Ringing", "callee-tag", contact, ""), src)
	proxy.WriteToUDPAddrPort(ok, src)

	wantRoutes := []string{near, far}
	ack, _ := readSIPMethod(t, proxy, "ACK")
	if ack.ruri != contact || !slices.Equal(ack.routes, wantRoutes) || ack.cseq != 1 ||
		tagOf(ack.to) != "callee-tag" || ack.vias[0] == inv.vias[0] {
		t.Fatalf("ACK: R-URI %q Route %q CSeq %d To %q Via %q (INVITE Via %q)",
			ack.ruri, ack.routes, ack.cseq, ack.to, ack.vias[0], inv.vias[0])
	}
	// §13.2.2.4: a retransmitted 2xx is ACKed again.
	proxy.WriteToUDPAddrPort(ok, src)
	readSIPMethod(t, proxy, "ACK")

	done := make(chan int)
	go func() { done <- s.teardown(context.Background()) }()
	bye, byeSrc := readSIPMethod(t, proxy, "BYE")
	if bye.ruri != contact || !slices.Equal(bye.routes, wantRoutes) || bye.cseq != 2 ||
		bye.callID != inv.callID || tagOf(bye.to) != "callee-tag" || tagOf(bye.from) != tagOf(inv.from) {
		t.Fatalf("BYE: R-URI %q Route %q CSeq %d Call-ID %q To %q From %q",
			bye.ruri, bye.routes, bye.cseq, bye.callID, bye.to, bye.from)
	}
	proxy.WriteToUDPAddrPort(response(bye, 200, "OK", "", "", ""), byeSrc)
	if failed := <-done; failed != 0 {
		t.Fatalf("teardown reports %d failed BYEs", failed)
	}
}

func TestCalleeAnswersRetransmitsUntilAckAndEndsOnBye(t *testing.T) {
	peer := listenLoopback(t)
	s, err := startSIP(SIPConfig{UAC: listenLoopback(t), UAS: listenLoopback(t), Target: addrOf(peer),
		Calls: 2, Rate: 1, UACRTP: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:4000")},
		UASRTP: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:4002")}, PTime: 20 * time.Millisecond,
		Timers: Timers{T1: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	uasAddr := addrOf(s.uas.ep.conn)
	invite := request{method: "INVITE", ruri: fmt.Sprintf("sip:bench-1@%s", uasAddr),
		via: via(addrOf(peer).String(), "p1"), from: "<sip:p@h>;tag=p", to: fmt.Sprintf("<sip:bench-1@%s>", uasAddr),
		callID: "proxy-call-1", cseq: 5, contact: "sip:p@" + addrOf(peer).String(),
		body: sdpBody(netip.MustParseAddrPort("127.0.0.1:6000"), 0, 20*time.Millisecond)}
	// A proxy in front would have added a Record-Route.
	invite.routes = []string{"<sip:127.0.0.1:9;lr>"}
	raw := []byte(strings.Replace(string(invite.build()), "\r\nRoute: ", "\r\nRecord-Route: ", 1))
	peer.WriteToUDPAddrPort(raw, uasAddr)

	var codes []int
	var ok *sipMessage
	for ok == nil {
		m, _ := readSIP(t, peer)
		codes = append(codes, m.status)
		if m.status == 200 {
			ok = m
		}
	}
	if !slices.Equal(codes, []int{100, 180, 200}) {
		t.Fatalf("responses %v, want 100 180 200", codes)
	}
	if tagOf(ok.to) == "" || ok.contact != "sip:bench@"+uasAddr.String() ||
		!slices.Equal(ok.recordRoute, []string{"<sip:127.0.0.1:9;lr>"}) || ok.cseq != 5 {
		t.Fatalf("200: To %q Contact %q Record-Route %q CSeq %d", ok.to, ok.contact, ok.recordRoute, ok.cseq)
	}
	if media, err := sdpAudioAddr(ok.body); err != nil || media.Port() != 4002 {
		t.Fatalf("answer SDP %v, %v", media, err)
	}
	// §13.3.1.4: without an ACK the 2xx comes again.
	again, _ := readSIP(t, peer)
	if again.status != 200 || tagOf(again.to) != tagOf(ok.to) {
		t.Fatalf("retransmission: %d To %q", again.status, again.to)
	}
	// A re-INVITE gets a 200 of its own: its CSeq, its Via.
	reinvite := invite
	reinvite.cseq, reinvite.to, reinvite.via, reinvite.routes = 7, ok.to, via(addrOf(peer).String(), "p9"), nil
	peer.WriteToUDPAddrPort(reinvite.build(), uasAddr)
	for {
		m, _ := readSIP(t, peer)
		if m.cseq == 7 {
			if m.status != 200 || m.vias[0] != reinvite.via || tagOf(m.to) != tagOf(ok.to) {
				t.Fatalf("re-INVITE answered %d Via %q To %q", m.status, m.vias[0], m.to)
			}
			break
		}
	}
	ack := request{method: "ACK", ruri: ok.contact, via: via(addrOf(peer).String(), "p2"),
		from: invite.from, to: ok.to, callID: invite.callID, cseq: 5}
	peer.WriteToUDPAddrPort(ack.build(), uasAddr)
	bye := request{method: "BYE", ruri: ok.contact, via: via(addrOf(peer).String(), "p3"),
		from: invite.from, to: ok.to, callID: invite.callID, cseq: 6}
	peer.WriteToUDPAddrPort(bye.build(), uasAddr)
	for {
		m, _ := readSIP(t, peer)
		if m.cseqMethod == "BYE" {
			if m.status != 200 {
				t.Fatalf("BYE answered %d", m.status)
			}
			break
		}
	}
	s.uas.ep.mu.Lock()
	c := s.uas.calls[1]
	acked, ended, retx := c.acked, c.ended, c.retx.active
	s.uas.ep.mu.Unlock()
	if !acked || !ended || retx {
		t.Fatalf("callee state: acked %v ended %v still retransmitting %v", acked, ended, retx)
	}
}
