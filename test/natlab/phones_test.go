//go:build linux

package natlab

import (
	"strings"
	"testing"
	"time"
)

// phonePassword is every phone's password at the lab's PBX.
const phonePassword = "s3cret-phone"

// phonesPBXPeer is natsbc's config for the real phones: the Kamailio PBX
// as peer "pbx" for the inside network, NAT detection left at its default.
// A call between two phones crosses natsbc twice (phone, natsbc, PBX,
// natsbc, phone) and the PBX relays natsbc's own Contact and the SDP of
// natsbc's other leg: natsbc must not take its own addresses for a NAT
// (sbc/hairpin.go), or each PBX-facing relay side waits for the other's
// first packet and no media flows.
const phonesPBXPeer = registrarPeer

// TestPhonesBaresip (issue 10, the lab's real phones): two baresip phones,
// each on a home network of its own behind the port-randomising NAT,
// register through natsbc to Kamailio playing a PBX that challenges
// REGISTER with 401 and INVITE with 407. Alice calls Bob (opus, G.722 and
// PCMU offered), Bob answers at once, the call holds 40 s (longer than
// the NAT's UDP timeout) with RTP both ways at both phones, counted on
// each phone's wire, then Alice hangs up and Bob receives the BYE.
func TestPhonesBaresip(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	bobLAN := l.AddPhoneLAN(t, 2)
	reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{Password: phonePassword, ChallengeInvite: true})
	n := l.StartNatsbc(t, BaseConfig+phonesPBXPeer)
	wireA := l.StartCapture(t, LAN1.Role, "alice-wire")
	wireB := l.StartCapture(t, bobLAN.Role, "bob-wire")
	alice := l.StartBaresip(t, LAN1, BaresipOptions{User: "alice", Password: phonePassword})
	bob := l.StartBaresip(t, bobLAN, BaresipOptions{User: "bob", Password: phonePassword, AutoAnswer: true})

	alice.AwaitRegistered(t, 15*time.Second)
	bob.AwaitRegistered(t, 15*time.Second)
	assertPhoneBehindNAT(t, n, "alice")
	assertPhoneBehindNAT(t, n, "bob")
	assertPublicContacts(t, reg.AwaitContacts(t, "bob", 5*time.Second))

	alice.Command(t, "/dial sip:bob@"+EdgeOutIP)
	estA := alice.AwaitEstablished(t, time.Time{}, 15*time.Second, "call to bob established")
	estB := bob.AwaitEstablished(t, time.Time{}, 5*time.Second, "call from alice established (auto-answer)")
	n.Log.Await(t, 5*time.Second, "call answered", nil)

	// The hold is the scenario's 40 s; a phone whose call closes during it
	// fails the test at once.
	holdCall(t, Hold, estA.At, alice.CloseWatch(), bob.CloseWatch())

	hangup := time.Now()
	alice.Command(t, "/hangup")
	closedB := bob.Await(t, 10*time.Second, "call closed by alice's BYE (\"session closed\")", "session closed")
	assertPhoneCallEnded(t, n, 1, 1)

	pktsA, pktsB := wireA.Stop(t), wireB.Stop(t)
	encA, decA := alice.Codecs()
	encB, decB := bob.Codecs()
	t.Logf("codecs: alice sends %s, receives %s; bob sends %s, receives %s", encA, decA, encB, decB)
	if encA == "" || encA != decA || encA != encB || encB != decB {
		t.Errorf("codecs disagree: alice encoder %q decoder %q, bob encoder %q decoder %q", encA, decA, encB, decB)
	}

	// Digest on the wire at the phones: the 401 and the 407 reached them
	// with their challenges, and both retries carried credentials.
	assertChallenged(t, "alice", pktsA, "REGISTER", 401)
	assertChallenged(t, "bob", pktsB, "REGISTER", 401)
	assertChallenged(t, "alice", pktsA, "INVITE", 407)
	assertOffered(t, "alice", pktsA, LAN1.IP, "opus/48000", "G722/8000", "PCMU/8000")
	assertByeReceived(t, "bob", pktsB, bobLAN.IP, hangup, closedB)
	// What kept each phone's SIP mapping open through the 40 s (the NAT
	// forgets after 20 s): for the record, not a check of how natsbc does it.
	for _, w := range []struct {
		name, ip string
		pkts     []WirePacket
	}{{"alice", LAN1.IP, pktsA}, {"bob", bobLAN.IP, pktsB}} {
		var in []string
		for _, p := range SIPAt(w.pkts) {
			if hostOf(p.Dst) == w.ip && p.At.After(estA.At) && p.At.Before(hangup) {
				in = append(in, p.String())
			}
		}
		t.Logf("SIP that reached %s during the hold: %v", w.name, in)
	}
	assertPBXGotCredentials(t, reg)
	assertSIPOnlyWithNatsbc(t, "alice", pktsA, LAN1.IP)
	assertSIPOnlyWithNatsbc(t, "bob", pktsB, bobLAN.IP)

	// RTP both ways at both phones, counted on the wire from both phones'
	// "Call established" to the hang-up: 20 ms packets, so 50 a second.
	codec := assertCallMedia(t, "alice calls bob", phoneWire{"alice", LAN1.IP, pktsA}, phoneWire{"bob", bobLAN.IP, pktsB},
		later(estA.At, estB.At), hangup)
	if !strings.HasPrefix(codec, "opus/") {
		t.Errorf("alice calls bob: codec on the wire %q, want opus (both offer it first)", codec)
	}
	reg.AssertNeverReceived(t, "192.168.")
	n.AssertNoCrash(t)
}
