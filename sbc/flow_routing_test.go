package sbc

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// The PBX answers through an RFC 2543 proxy that record-routes without
// ;lr (a strict router). natsbc's ACK and BYE on the B-leg must go to the
// proxy with the proxy's URI as Request-URI and the PBX's Contact as the
// last Route (RFC 3261 §12.2.1.1), or the proxy cannot route them.
func TestFlowStrictRouterInRecordRoute(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	proxy := newTestPeer(t, "proxy", pbxIP)
	pc := newPhoneCall()
	b.phone.Send(t, b.invite(pc))
	inv := b.pbx.Expect(t, wait, "B-leg INVITE", isRequest(sip.INVITE)).(*sip.Request)
	pbxContact := "sip:1000@" + b.pbx.addr().String()
	strict := "sip:" + proxy.addr().String() // no ;lr
	b.pbx.SendTo(t, parseAddrPort(inv.Source()), replyTo(inv, 200, "OK", "pbx1",
		[]string{"Record-Route: <" + strict + ">", "Contact: <" + pbxContact + ">", "Content-Type: application/sdp"}, sdpBody(pbxIP, 6000)))
	ok := b.phone.Expect(t, wait, "200 OK", isResponse(200, sip.INVITE))
	pc.aTag, pc.aContact = toTagOf(ok), contactOf(t, ok)

	checkStrict := func(m sip.Message, what string) {
		t.Helper()
		req := m.(*sip.Request)
		if req.Recipient.String() != strict {
			t.Errorf("%s Request-URI %s, want the strict router's URI %s", what, req.Recipient.String(), strict)
		}
		routes := req.GetHeaders("Route")
		if len(routes) != 1 || !strings.Contains(routes[0].Value(), pbxContact) {
			t.Errorf("%s Route %v, want only the remote target <%s>", what, routes, pbxContact)
		}
	}
	checkStrict(proxy.Expect(t, wait, "ACK via the strict router", isRequestIn(sip.ACK, inv.CallID().Value())), "ACK")
	if m, got := b.pbx.tryExpect(0, isRequest(sip.ACK)); got {
		t.Errorf("ACK went to the PBX's Contact, past the proxy:\n%s", m)
	}

	b.phone.Send(t, b.phoneInDialog(pc, sip.ACK, 1, nil, ""))
	b.phone.Send(t, b.phoneInDialog(pc, sip.BYE, 0, nil, ""))
	bye := proxy.Expect(t, wait, "BYE via the strict router", isRequestIn(sip.BYE, inv.CallID().Value()))
	checkStrict(bye, "BYE")
	answer(t, proxy, bye, 200, "OK", "", nil, "")
	b.phone.Expect(t, wait, "200 OK for BYE", isResponse(200, sip.BYE))
}

// A phone dials a tel: URI (RFC 3966): the B-leg INVITE carries the number
// unchanged, where it lost it before (sipgo keeps a tel: URI as raw text,
// with no user part).
func TestFlowTelRequestURI(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	pc := newPhoneCall()
	inv := strings.Replace(b.invite(pc), "INVITE sip:1000@"+b.outside.String(), "INVITE tel:+4930123456;phone-context=+49", 1)
	inv = strings.Replace(inv, "To: <sip:1000@"+b.outside.String()+">", "To: <tel:+4930123456>", 1)
	b.phone.Send(t, inv)
	got := b.pbx.Expect(t, wait, "B-leg INVITE", isRequest(sip.INVITE)).(*sip.Request)
	if got.Recipient.String() != "tel:+4930123456;phone-context=+49" {
		t.Errorf("B-leg Request-URI %s, want the caller's tel: URI", got.Recipient.String())
	}
	if got.To().Address.String() != "tel:+4930123456" {
		t.Errorf("B-leg To %s, want <tel:+4930123456>", got.To().Value())
	}
	answer(t, b.pbx, got, 486, "Busy Here", "pbx1", nil, "")
	b.phone.Expect(t, wait, "486", isResponse(486, sip.INVITE))
}

// user=phone survives the rewrite of the Request-URI to the next hop.
func TestFlowUserPhoneKept(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	pc := newPhoneCall()
	inv := strings.Replace(b.invite(pc), "INVITE sip:1000@"+b.outside.String(), "INVITE sip:+4930123456@"+b.outside.String()+";user=phone", 1)
	b.phone.Send(t, inv)
	got := b.pbx.Expect(t, wait, "B-leg INVITE", isRequest(sip.INVITE)).(*sip.Request)
	if want := "sip:+4930123456@" + b.pbx.addr().String() + ";user=phone"; got.Recipient.String() != want {
		t.Errorf("B-leg Request-URI %s, want %s", got.Recipient.String(), want)
	}
	answer(t, b.pbx, got, 486, "Busy Here", "pbx1", nil, "")
	b.phone.Expect(t, wait, "486", isResponse(486, sip.INVITE))
}

// The PBX's requests are routed by their Request-URI (default routes): a
// tel: URI names no host to send to, so it is 404, not a 500.
func TestFlowTelRequestURIRoutedByURIIsNotFound(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	inv := sipMsg("INVITE tel:+4930123456 SIP/2.0", []string{
		"Via: SIP/2.0/UDP " + b.pbx.addr().String() + ";branch=z9hG4bK-tel" + randomHex(6) + ";rport",
		"Max-Forwards: 70",
		"From: <sip:1000@" + pbxIP + ">;tag=pbxtel",
		"To: <tel:+4930123456>",
		"Call-ID: " + randomHex(8),
		"CSeq: 1 INVITE",
		"Contact: <sip:1000@" + b.pbx.addr().String() + ">",
	}, "")
	b.pbx.Send(t, inv)
	b.pbx.Expect(t, wait, "404 for a tel: URI routed by its host", isResponse(404, sip.INVITE))
}
