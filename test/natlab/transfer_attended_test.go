//go:build linux

package natlab

import (
	"strings"
	"testing"
	"time"
)

// TestTransferAttendedLinphone (issue 11, transfers): three linphone
// phones, each behind the port-randomising NAT on a home network of its
// own, registered through natsbc to the Kamailio PBX. Bob calls Alice,
// then Carol (Alice is put on hold), then transfers Alice to Carol
// attended: a REFER whose Refer-To carries ?Replaces= naming his call
// with Carol (RFC 3891 §7). Alice's INVITE with that Replaces crosses
// natsbc twice and the PBX; Carol accepts it only if the Replaces she
// gets names her own dialog (§3: Call-ID, her tag as to-tag), so natsbc
// must rename it at each crossing. Carol ends up talking to Alice, and
// Bob's calls end.
func TestTransferAttendedLinphone(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	bobLAN := l.AddPhoneLAN(t, 2)
	carolLAN := l.AddPhoneLAN(t, 3)
	reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{Password: phonePassword})
	n := l.StartNatsbc(t, BaseConfig+phonesPBXPeer)
	wireC := l.StartCapture(t, carolLAN.Role, "carol-wire")
	alice := l.StartLinphone(t, LAN1, LinphoneOptions{User: "alice", Password: phonePassword, AutoAnswer: true})
	bob := l.StartLinphone(t, bobLAN, LinphoneOptions{User: "bob", Password: phonePassword})
	carol := l.StartLinphone(t, carolLAN, LinphoneOptions{User: "carol", Password: phonePassword, AutoAnswer: true})
	for _, p := range []*Linphone{alice, bob, carol} {
		p.AwaitRegistered(t, 15*time.Second)
	}
	reg.AwaitContacts(t, "alice", 5*time.Second)
	reg.AwaitContacts(t, "carol", 5*time.Second)

	bob.Command(t, "call sip:alice@"+EdgeOutIP)
	bob.AwaitConnected(t, time.Time{}, 15*time.Second, "call 1 to alice connected")
	alice.AwaitConnected(t, time.Time{}, 5*time.Second, "call from bob connected (auto-answer)")
	second := time.Now()
	bob.Command(t, "pause 1") // linphonec places no second call while one is active
	bob.AwaitAfter(t, second, 10*time.Second, "call 1 put on hold", "paused")
	bob.Command(t, "call sip:carol@"+EdgeOutIP)
	bob.AwaitConnected(t, second, 15*time.Second, "call 2 to carol connected")
	carol.AwaitConnected(t, second, 5*time.Second, "call from bob connected (auto-answer)")

	transfer := time.Now()
	bob.Command(t, "transfer 1 --to-call 2")
	alice.AwaitConnected(t, transfer, 15*time.Second, "alice's call to carol after the transfer connected")
	bob.AwaitAfter(t, transfer, 10*time.Second, "his call with carol replaced and ended", "ended")

	// Carol's wire: the call from bob (natsbc's leg to her), then alice's
	// INVITE whose Replaces names exactly that dialog as carol knows it.
	var first, replacing WirePacket
	pkts := wireC.AwaitPacket(t, 15*time.Second, "an INVITE with Replaces to carol", func(p WirePacket) bool {
		if p.Method == "INVITE" && hostOf(p.Dst) == carolLAN.IP && p.Replaces != "" {
			replacing = p
			return true
		}
		return false
	})
	for _, p := range pkts {
		if p.Status == 200 && p.CSeqMethod == "INVITE" && hostOf(p.Src) == carolLAN.IP && p.At.Before(transfer) {
			first = p
		}
	}
	if first.CallID == "" {
		t.Fatalf("carol's 200 for bob's call not on her wire:\n%s", listPackets(SIPAt(pkts)))
	}
	want := first.CallID + ";to-tag=" + first.ToTag + ";from-tag=" + first.FromTag
	if !sameReplaces(replacing.Replaces, first.CallID, first.ToTag, first.FromTag) {
		t.Errorf("Replaces at carol %q, want her dialog with bob %q", replacing.Replaces, want)
	}
	if replacing.CallID == first.CallID {
		t.Errorf("alice's INVITE reached carol in bob's dialog's Call-ID %s: not a new call leg", first.CallID)
	}
	assertSIPOnlyWithNatsbc(t, "carol", pkts, carolLAN.IP)
	reg.AssertNeverReceived(t, "192.168.")
	n.AssertNoCrash(t)
}

// sameReplaces reports whether a Replaces value names the dialog callID
// with to-tag and from-tag, in any parameter order.
func sameReplaces(v, callID, toTag, fromTag string) bool {
	parts := strings.Split(v, ";")
	if strings.TrimSpace(parts[0]) != callID {
		return false
	}
	got := map[string]string{}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		got[strings.ToLower(k)] = val
	}
	return got["to-tag"] == toTag && got["from-tag"] == fromTag
}
