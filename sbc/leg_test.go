package sbc

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/policy"
)

func testLeg(t *testing.T) *leg {
	t.Helper()
	sock, err := newSocket(Listener{Spec: ListenSpec{Name: "inside", Network: "udp"}, Packet: fakeAddrConn("10.0.0.5:5060")})
	if err != nil {
		t.Fatal(err)
	}
	l := &leg{
		side: media.LegB, sock: sock, adv: netip.MustParseAddrPort("10.0.0.5:5060"), transport: "UDP",
		callID: "b-call", localTag: "b-tag", remoteTag: "callee-tag",
		local: sip.Uri{Scheme: "sip", User: "alice", Host: "example.org"}, remote: sip.Uri{Scheme: "sip", User: "bob", Host: "example.org"},
		localCSeq: 7, nextHop: "10.0.0.20:5060",
	}
	_ = sip.ParseUri("sip:bob@10.0.0.30:5062", &l.remoteTarget)
	var r sip.Uri
	_ = sip.ParseUri("sip:10.0.0.20;lr", &r)
	l.routeSet = []sip.Uri{r}
	return l
}

// TestInDialogRequestIsBuiltForItsLeg: RFC 3261 §12.2.1.1 — R-URI is the
// remote target, Route the route set, and the request leaves from the
// leg's own socket towards the route set's first hop.
func TestInDialogRequestIsBuiltForItsLeg(t *testing.T) {
	l := testLeg(t)
	bye := l.newInDialogRequest(sip.BYE, 0)
	if got := bye.Recipient.String(); got != "sip:bob@10.0.0.30:5062" {
		t.Errorf("R-URI = %s", got)
	}
	if bye.CSeq().SeqNo != 8 || bye.CSeq().MethodName != sip.BYE {
		t.Errorf("CSeq = %s, want 8 BYE", bye.CSeq().Value())
	}
	if r := bye.GetHeaders("Route"); len(r) != 1 || !strings.Contains(r[0].Value(), "10.0.0.20") {
		t.Errorf("Route = %v", r)
	}
	if bye.Destination() != "10.0.0.20:5060" {
		t.Errorf("destination = %s", bye.Destination())
	}
	if bye.Laddr.String() != "10.0.0.5:5060" {
		t.Errorf("leaves from %s, want the listening socket 10.0.0.5:5060", bye.Laddr.String())
	}
	via := bye.Via()
	if via.Host != "10.0.0.5" || via.Port != 5060 || !via.Params.Has("rport") {
		t.Errorf("Via = %s", via.Value())
	}
	if fromTag(bye) != "b-tag" || toTag(bye) != "callee-tag" || callID(bye) != "b-call" {
		t.Errorf("dialog id wrong: %s", bye.String())
	}
	if bye.Contact() != nil {
		t.Error("BYE carries no Contact")
	}
	ack := l.newInDialogRequest(sip.ACK, 3)
	if ack.CSeq().SeqNo != 3 || l.localCSeq != 8 {
		t.Errorf("ACK must reuse the INVITE's CSeq and not consume one: %s, local %d", ack.CSeq().Value(), l.localCSeq)
	}
	inv := l.newInDialogRequest(sip.INVITE, 0)
	if c := inv.Contact(); c == nil || c.Address.Host != "10.0.0.5" {
		t.Errorf("re-INVITE Contact = %v, want natsbc's", c)
	}
}

// TestCopyEndToEndKeepsTopologyOut: nothing of one leg's Via, Route,
// Record-Route, Contact or Call-ID reaches the other.
func TestCopyEndToEndKeepsTopologyOut(t *testing.T) {
	in := mustParse(t, `
INVITE sip:bob@203.0.113.5 SIP/2.0
Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK.1
Record-Route: <sip:192.168.1.1;lr>
From: <sip:alice@example.org>;tag=a
To: <sip:bob@example.org>
Call-ID: a-leg-secret
CSeq: 1 INVITE
Contact: <sip:alice@192.168.1.10:5060>
Max-Forwards: 70
User-Agent: phone
Supported: 100rel, timer
P-Asserted-Identity: <sip:alice@example.org>
X-Custom: kept
Content-Length: 0

`)
	out := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", Host: "10.0.0.10"})
	copyEndToEnd(out, in, policy.Peer{Name: "pbx", Role: policy.RolePBX, TrustIdentity: true})
	text := out.String()
	for _, leak := range []string{"192.168.1", "a-leg-secret", "Record-Route", "Contact", "Via"} {
		if strings.Contains(text, leak) {
			t.Errorf("%q leaked to the other leg:\n%s", leak, text)
		}
	}
	for _, kept := range []string{"X-Custom: kept", "P-Asserted-Identity", "Supported: timer"} {
		if !strings.Contains(text, kept) {
			t.Errorf("%q not carried:\n%s", kept, text)
		}
	}
	if strings.Contains(text, "100rel") {
		t.Errorf("100rel offered although natsbc does not relay PRACK:\n%s", text)
	}
}
