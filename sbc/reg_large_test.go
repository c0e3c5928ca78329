package sbc

import (
	"fmt"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// largeLines: largeRegister's Contacts beside the phone's own.
const largeLines = 24

// largeRegister is a phone's REGISTER with enough Contacts (a phone with
// many lines) that natsbc's relay of it is about 2 KB.
func (b *flowBed) largeRegister(r *phoneReg) string {
	var contacts []string
	for i := range largeLines {
		contacts = append(contacts, fmt.Sprintf("Contact: <sip:%s-line%02d@%s>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-0000000000%02d>\"", r.user, i, phoneViaHop, i))
	}
	return b.register(r, 3600, contacts...)
}

// pbxGrants is the PBX's 200 listing every token Contact of reg.
func pbxGrants(t *testing.T, reg sip.Message) string {
	t.Helper()
	var hs []string
	for _, h := range reg.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			t.Fatalf("Contact %q", h.Value())
		}
		hs = append(hs, "Contact: <"+c.Address.String()+">;expires=3600")
	}
	return replyTo(reg, 200, "OK", "pbx"+randomHex(3), hs, "")
}

// assertRegisterRelayed checks the relayed REGISTER is large and its token
// Contacts keep natsbc's UDP address (the binding's PBX side stays UDP).
func (b *largeBed) assertRegisterRelayed(t *testing.T, reg sip.Message, contacts int) {
	t.Helper()
	if n := messageSize(reg); n < 2000 {
		t.Errorf("relayed REGISTER is %d bytes, want about 2 KB (the test's point)", n)
	}
	if got := len(reg.GetHeaders("Contact")); got != contacts {
		t.Errorf("%d Contacts at the PBX, want %d", got, contacts)
	}
	c := contactOf(t, reg)
	if tr, _ := c.UriParams.Get("transport"); uriAddr(t, c) != b.inside || tr != "" {
		t.Errorf("token Contact %s, want natsbc's UDP socket %s", c.String(), b.inside)
	}
}

// A 2 KB REGISTER is relayed over TCP when the PBX listens on TCP (RFC 3261
// §18.1.1), with TCP and natsbc's TCP socket in its Via; the PBX answers on
// the connection. The binding still reaches the phone: the PBX's call to
// the token, over UDP, gets to the phone.
func TestLargeRegisterOverTCP(t *testing.T) {
	t.Parallel()
	b := newLargeBed(t, largeBedOpts{insideTCP: true, pbxTCP: true})
	r := newPhoneReg("alice")
	b.phone.Send(t, b.largeRegister(r))
	reg := b.pbxTCP.Expect(t, "the 2 KB REGISTER over TCP").msg
	if req, ok := reg.(*sip.Request); !ok || req.Method != sip.REGISTER {
		t.Fatalf("got %s, want the REGISTER", reg.String())
	}
	if via := reg.Via(); via.Transport != "TCP" || via.SentBy() != b.insideTCP.String() {
		t.Errorf("REGISTER Via %q, want SIP/2.0/TCP %s", via.Value(), b.insideTCP)
	}
	b.assertRegisterRelayed(t, reg, largeLines+1)
	if got := b.pbx.TakeAll(isRequest(sip.REGISTER)); len(got) != 0 {
		t.Errorf("the PBX also got the REGISTER over UDP")
	}

	b.pbxTCP.Reply(t, pbxGrants(t, reg))
	ok := b.phone.Expect(t, wait, "200 to REGISTER", isResponse(200, sip.REGISTER))
	if n := len(ok.GetHeaders("Contact")); n != largeLines+1 {
		t.Errorf("phone's 200 lists %d Contacts, want %d", n, largeLines+1)
	}
	if n := b.srv.Bindings(); n != largeLines+1 {
		t.Errorf("Bindings() = %d, want %d", n, largeLines+1)
	}
	if recs := b.log.lines("large request sent over TCP"); len(recs) != 1 || recs[0]["leg"] != "registrar" || recs[0]["method"] != "REGISTER" {
		t.Errorf("`large request sent over TCP` lines = %v, want one for the registrar", recs)
	}

	token := contactOf(t, reg)
	_, inv := b.pbxInvite(token.String())
	b.pbx.SendTo(t, b.inside, inv)
	in := b.phone.Expect(t, wait, "INVITE at the phone", isRequest(sip.INVITE)).(*sip.Request)
	if in.Recipient.User != "alice" || in.Recipient.Host != privateIP {
		t.Errorf("phone's INVITE R-URI = %s, want its first Contact", in.Recipient.String())
	}
	b.assertNoSendFailure(t)
}

// The PBX has no TCP: the REGISTER goes as one UDP datagram from natsbc's
// UDP socket, one info line says so, and the refresh does not try again.
func TestLargeRegisterFallsBackToUDPWhenTCPRefused(t *testing.T) {
	t.Parallel()
	b := newLargeBed(t, largeBedOpts{insideTCP: true})
	r := newPhoneReg("alice")
	for try := range 2 {
		b.phone.Send(t, b.largeRegister(r))
		reg := b.pbx.Expect(t, wait, "the 2 KB REGISTER over UDP", isRequestIn(sip.REGISTER, r.callID))
		if via := reg.Via(); via.Transport != "UDP" || via.SentBy() != b.inside.String() {
			t.Errorf("REGISTER %d: Via %q, want UDP from %s", try, via.Value(), b.inside)
		}
		b.assertRegisterRelayed(t, reg, largeLines+1)
		// A challenge: the refresh is relayed, not answered from the cache.
		b.pbx.SendTo(t, b.inside, replyTo(reg, 401, "Unauthorized", "pbx"+randomHex(3),
			[]string{`WWW-Authenticate: Digest realm="example.com", nonce="n"`}, ""))
		b.phone.Expect(t, wait, "401 to REGISTER", isResponse(401, sip.REGISTER))
	}
	recs := b.log.lines("large request sent as one UDP datagram: next hop refuses TCP")
	if len(recs) != 1 {
		t.Fatalf("%d fallback lines, want 1 (the second REGISTER remembers): %v", len(recs), recs)
	}
	if r := recs[0]; r["leg"] != "registrar" || r["method"] != "REGISTER" || r["to"] != b.pbx.addr().String() {
		t.Errorf("fallback line %v: want leg registrar, REGISTER, to %s", r, b.pbx.addr())
	}
}

// large_requests: udp keeps a large REGISTER on UDP although the PBX has TCP.
func TestLargeRegisterUDPKnob(t *testing.T) {
	t.Parallel()
	b := newLargeBed(t, largeBedOpts{insideTCP: true, pbxTCP: true, largeRequests: "udp"})
	r := newPhoneReg("alice")
	b.phone.Send(t, b.largeRegister(r))
	reg := b.pbx.Expect(t, wait, "the 2 KB REGISTER over UDP", isRequestIn(sip.REGISTER, r.callID))
	if via := reg.Via(); via.Transport != "UDP" {
		t.Errorf("REGISTER Via %q, want UDP", via.Value())
	}
	b.assertRegisterRelayed(t, reg, largeLines+1)
	b.pbx.SendTo(t, b.inside, pbxGrants(t, reg))
	b.phone.Expect(t, wait, "200 to REGISTER", isResponse(200, sip.REGISTER))
	select {
	case m := <-b.pbxTCP.in:
		t.Errorf("the PBX got over TCP:\n%s", m.raw)
	default:
	}
}
