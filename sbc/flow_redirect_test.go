package sbc

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/policy"
)

// redirect302 answers a B-leg INVITE 302 with the given Contacts.
func redirect302(t *testing.T, p *testPeer, inv sip.Message, contacts ...string) {
	t.Helper()
	var hs []string
	for _, c := range contacts {
		hs = append(hs, "Contact: "+c)
	}
	answer(t, p, inv, 302, "Moved Temporarily", "redir"+randomHex(3), hs, "")
}

// The PBX redirects (302) to two Contacts: the preferred one (q=0.9) is
// an address natsbc's routes do not allow, the other (q=0.5) is another
// user at the PBX. natsbc follows to that one (RFC 3261 §8.1.3.4: same
// Call-ID and From tag, no To tag, higher CSeq, the URI copied, the offer
// again), the callee answers and the phone never sees the 302. When the
// PBX first rang (180 with a To tag and Record-Route: an early dialog),
// the redirected INVITE is still a new request: no To tag, no Route.
func TestFlowRedirectFollowed(t *testing.T) {
	for _, tt := range []struct {
		name  string
		early bool
	}{{"at once", false}, {"after an early dialog", true}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newFlowBed(t, nil)
			pc := newPhoneCall()
			b.phone.Send(t, b.invite(pc))
			inv := b.pbx.Expect(t, wait, "B-leg INVITE", isRequest(sip.INVITE))
			if tt.early {
				answer(t, b.pbx, inv, 180, "Ringing", "early1", []string{"Contact: <sip:1000@" + b.pbx.addr().String() + ">",
					"Record-Route: <sip:" + b.pbx.addr().String() + ";lr>"}, "")
				b.phone.Expect(t, wait, "180 of the first target", isResponse(180, sip.INVITE))
			}
			redirect302(t, b.pbx, inv,
				"<sip:3333@127.0.0.9:5060>;q=0.9",
				"<sip:2222@"+b.pbx.addr().String()+";user=phone>;q=0.5")
			b.pbx.Expect(t, wait, "ACK for the 302", func(m sip.Message) bool {
				return isRequestIn(sip.ACK, inv.CallID().Value())(m) && m.CSeq().SeqNo == inv.CSeq().SeqNo
			})

			next := b.pbx.Expect(t, wait, "INVITE to the redirect target", func(m sip.Message) bool {
				return isRequestIn(sip.INVITE, inv.CallID().Value())(m) && m.CSeq().SeqNo != inv.CSeq().SeqNo
			}).(*sip.Request)
			if next.Recipient.User != "2222" || uriAddr(t, next.Recipient) != b.pbx.addr() {
				t.Errorf("redirected R-URI %s, want sip:2222@%s", next.Recipient.String(), b.pbx.addr())
			}
			if v, _ := next.Recipient.UriParams.Get("user"); v != "phone" {
				t.Errorf("redirected R-URI %s lost the Contact's user=phone", next.Recipient.String())
			}
			if fromTagOf(next) != fromTagOf(inv) || toTagOf(next) != "" {
				t.Errorf("redirected INVITE From tag %q To tag %q, want %q and none", fromTagOf(next), toTagOf(next), fromTagOf(inv))
			}
			if routes := next.GetHeaders("Route"); len(routes) != 0 {
				t.Errorf("redirected INVITE carries the old early dialog's route set %v", routes)
			}
			if next.CSeq().SeqNo <= inv.CSeq().SeqNo || branchOf(next) == branchOf(inv) {
				t.Errorf("redirected INVITE CSeq %d branch %s: want a new transaction after CSeq %d", next.CSeq().SeqNo, branchOf(next), inv.CSeq().SeqNo)
			}
			if string(next.Body()) != string(inv.Body()) {
				t.Errorf("redirected INVITE offer differs:\n%s\nwant\n%s", next.Body(), inv.Body())
			}
			if _, err := b.log.waitFor("redirect target refused", wait); err != nil {
				t.Errorf("the unroutable q=0.9 Contact was not logged as refused: %v", err)
			}

			answer(t, b.pbx, next, 200, "OK", "callee2", []string{"Contact: <sip:2222@" + b.pbx.addr().String() + ">",
				"Content-Type: application/sdp"}, sdpBody(pbxIP, 6000))
			b.phone.Expect(t, wait, "200 OK from the redirect target", isResponse(200, sip.INVITE))
			ack := b.pbx.Expect(t, wait, "natsbc's ACK for the 200", func(m sip.Message) bool {
				return isRequestIn(sip.ACK, inv.CallID().Value())(m) && m.CSeq().SeqNo == next.CSeq().SeqNo
			})
			if toTagOf(ack) != "callee2" || len(ack.GetHeaders("Route")) != 0 {
				t.Errorf("ACK To tag %q Route %v, want the redirect target's dialog (callee2, no route set)", toTagOf(ack), ack.GetHeaders("Route"))
			}
			if got := b.phone.TakeAll(isResponse(302, sip.INVITE)); len(got) > 0 {
				t.Errorf("the phone saw the followed 302:\n%s", got[0])
			}
		})
	}
}

// A peer with `redirect: relay`: the phone gets the 302 with every
// Contact as the PBX wrote it, and natsbc tries nothing itself.
func TestFlowRedirectRelayed(t *testing.T) {
	t.Parallel()
	b := newFlowBedWith(t, nil, func(o *Options, pbx netip.AddrPort) {
		pol, err := policy.New(policy.Config{Peers: []policy.Peer{{
			Name: "pbx", Networks: []netip.Prefix{netip.PrefixFrom(pbx.Addr(), 32)},
			Address: pbx.String(), Role: policy.RolePBX, Redirect: policy.RedirectRelay,
		}}})
		if err != nil {
			t.Fatalf("policy: %v", err)
		}
		o.Policy = pol
	})
	pc := newPhoneCall()
	b.phone.Send(t, b.invite(pc))
	inv := b.pbx.Expect(t, wait, "B-leg INVITE", isRequest(sip.INVITE))
	contacts := []string{"<sip:2222@" + b.pbx.addr().String() + ">;q=0.5", "<sip:3333@198.51.100.7:5070>;q=0.9"}
	redirect302(t, b.pbx, inv, contacts...)

	moved := b.phone.Expect(t, wait, "302 relayed to the phone", isResponse(302, sip.INVITE))
	got := moved.GetHeaders("Contact")
	if len(got) != 2 || !strings.Contains(got[0].Value(), "2222@"+b.pbx.addr().String()) || !strings.Contains(got[1].Value(), "3333@198.51.100.7:5070") {
		t.Errorf("302 Contacts at the phone = %v, want the PBX's %v", got, contacts)
	}
	if rec, err := b.log.waitFor("call ended", wait); err != nil || rec["reason"] != "rejected" {
		t.Errorf("call ended = %v (%v), want rejected", rec, err)
	}
	if again := b.pbx.TakeAll(func(m sip.Message) bool {
		return isRequest(sip.INVITE)(m) && m.CSeq().SeqNo != inv.CSeq().SeqNo
	}); len(again) > 0 {
		t.Errorf("natsbc followed a 3xx of a relay peer:\n%s", again[0])
	}
}

// A PBX that redirects every INVITE to yet another user: natsbc follows
// at most maxRedirectTargets of them, then the phone gets the last 302.
func TestFlowRedirectBounded(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	pc := newPhoneCall()
	b.phone.Send(t, b.invite(pc))
	var invites int
	for i := 0; i <= maxRedirectTargets; i++ {
		inv := b.pbx.Expect(t, wait, fmt.Sprintf("INVITE %d", i+1), isRequest(sip.INVITE))
		invites++
		// One target repeated (loop) and one new each time.
		redirect302(t, b.pbx, inv, "<sip:1000@"+b.pbx.addr().String()+">", fmt.Sprintf("<sip:%d@%s>", 5000+i, b.pbx.addr()))
	}
	b.phone.Expect(t, wait, "the last 302 relayed", isResponse(302, sip.INVITE))
	if extra := b.pbx.TakeAll(isRequest(sip.INVITE)); len(extra) > 0 {
		t.Errorf("natsbc sent %d INVITEs, want %d (1 + %d redirects)", invites+len(extra), 1+maxRedirectTargets, maxRedirectTargets)
	}
}
