//go:build linux

package natlab

import (
	"strings"
	"testing"
	"time"
)

// TestTransferBlindBaresip (issue 11, transfers): three baresip phones,
// each behind the port-randomising NAT on a home network of its own,
// registered through natsbc to the Kamailio PBX. Alice calls Bob; Bob
// transfers her to Carol (REFER, Refer-To sip:carol at natsbc, RFC 3515).
// The REFER crosses natsbc twice (Bob's call leg, then Alice's), Alice's
// baresip accepts it and calls Carol, Carol answers, and the NOTIFY with
// the sipfrag of that call's 200 crosses back to Bob, whose baresip ends
// its call as transferred ("Call transfered" is what baresip logs on a
// 2xx sipfrag, call.c). The REFER and NOTIFY each cross two calls whose
// legs have their own CSeq numbers: Bob accepts the NOTIFY only when its
// "Event: refer;id=" names his REFER's CSeq.
func TestTransferBlindBaresip(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	bobLAN := l.AddPhoneLAN(t, 2)
	carolLAN := l.AddPhoneLAN(t, 3)
	reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{Password: phonePassword})
	n := l.StartNatsbc(t, BaseConfig+phonesPBXPeer)
	wireA := l.StartCapture(t, LAN1.Role, "alice-wire")
	wireB := l.StartCapture(t, bobLAN.Role, "bob-wire")
	alice := l.StartBaresip(t, LAN1, BaresipOptions{User: "alice", Password: phonePassword})
	bob := l.StartBaresip(t, bobLAN, BaresipOptions{User: "bob", Password: phonePassword, AutoAnswer: true})
	carol := l.StartBaresip(t, carolLAN, BaresipOptions{User: "carol", Password: phonePassword, AutoAnswer: true})
	for _, p := range []*Baresip{alice, bob, carol} {
		p.AwaitRegistered(t, 15*time.Second)
	}
	reg.AwaitContacts(t, "carol", 5*time.Second)

	alice.Command(t, "/dial sip:bob@"+EdgeOutIP)
	alice.AwaitEstablished(t, time.Time{}, 15*time.Second, "call to bob established")
	bob.AwaitEstablished(t, time.Time{}, 5*time.Second, "call from alice established (auto-answer)")

	transfer := time.Now()
	bob.Command(t, "/transfer sip:carol@"+EdgeOutIP)
	alice.AwaitAfter(t, transfer, 10*time.Second, "the REFER from bob (menu: \"transferring call ... to\")", "menu: transferring call")
	carol.AwaitEstablished(t, transfer, 15*time.Second, "alice's call after the transfer established (auto-answer)")
	// Not AwaitEstablished: alice's trace of her own NOTIFY
	// ("Subscription-State: terminated") reads as a closing call to it.
	alice.AwaitAfter(t, transfer, 5*time.Second, "call to carol established", "Call established: sip:carol@")

	// The REFER as bob sent it and as alice got it: target kept, each with
	// the CSeq of its own leg.
	bobRefer := tracedRequest(t, bob, transfer, "REFER", false)
	aliceRefer := tracedRequest(t, alice, transfer, "REFER", true)
	if rt := aliceRefer.Header("Refer-To"); !strings.Contains(rt, "sip:carol@"+EdgeOutIP) {
		t.Errorf("Refer-To at alice %q, want bob's target sip:carol@%s", rt, EdgeOutIP)
	}
	bobID, aliceID := cseqNumber(bobRefer), cseqNumber(aliceRefer)
	t.Logf("REFER CSeq: %s at bob, %s at alice", bobID, aliceID)

	// The NOTIFY of alice's 200 from carol, as bob received it: the
	// sipfrag, and the id of bob's own REFER.
	var got TracedMessage
	if !poll(10*time.Second, func() bool {
		for _, m := range bob.Traced(transfer) {
			if m.Received && strings.HasPrefix(m.Text, "NOTIFY ") && strings.HasSuffix(m.Text, "\nSIP/2.0 200 OK") {
				got = m
				return true
			}
		}
		return false
	}) {
		t.Fatalf("no NOTIFY with the sipfrag \"SIP/2.0 200 OK\" reached bob; his log: %s", bob.LogPath)
	}
	if ev := got.Header("Event"); ev != "refer;id="+bobID {
		t.Errorf("NOTIFY at bob has Event %q, want refer;id=%s (his REFER's CSeq; alice's leg numbered it %s)", ev, bobID, aliceID)
	}
	if ct := got.Header("Content-Type"); !strings.HasPrefix(ct, "message/sipfrag") {
		t.Errorf("NOTIFY at bob has Content-Type %q, want message/sipfrag", ct)
	}

	pktsA := wireA.AwaitPacket(t, 15*time.Second, "REFER to alice", func(p WirePacket) bool {
		return p.Method == "REFER" && hostOf(p.Dst) == LAN1.IP
	})
	wireB.AwaitPacket(t, 15*time.Second, "202 to bob's REFER", func(p WirePacket) bool {
		return p.Status == 202 && p.CSeqMethod == "REFER" && hostOf(p.Dst) == bobLAN.IP
	})
	pktsB := wireB.AwaitPacket(t, 15*time.Second, "NOTIFY to bob", func(p WirePacket) bool {
		return p.Method == "NOTIFY" && hostOf(p.Dst) == bobLAN.IP
	})
	assertSIPOnlyWithNatsbc(t, "alice", pktsA, LAN1.IP)
	assertSIPOnlyWithNatsbc(t, "bob", pktsB, bobLAN.IP)
	reg.AssertNeverReceived(t, "192.168.")
	n.AssertNoCrash(t)
}

// tracedRequest is the first request method the phone sent (received:
// false) or received (true) at or after from, per its SIP trace.
func tracedRequest(t *testing.T, p *Baresip, from time.Time, method string, received bool) TracedMessage {
	t.Helper()
	first := FirstSent
	if received {
		first = FirstReceived
	}
	m, ok := first(p.Traced(from), method+" ")
	if !ok {
		t.Fatalf("baresip %s: no %s %s in its trace; its log: %s", p.User, method, map[bool]string{true: "received", false: "sent"}[received], p.LogPath)
	}
	return m
}

// cseqNumber is the number of a traced message's CSeq.
func cseqNumber(m TracedMessage) string {
	n, _, _ := strings.Cut(m.Header("CSeq"), " ")
	return n
}
