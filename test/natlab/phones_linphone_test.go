//go:build linux

package natlab

import (
	"testing"
	"time"
)

// linphoneTalk is how long each call of the linphone scenario holds: long
// enough for a steady RTP count, short enough that two calls in a row
// stay within the lab's 40 s hold of the other scenarios.
const linphoneTalk = 10 * time.Second

// TestPhonesLinphone (issue 10, a second SIP stack): linphonec (carol)
// and baresip (alice), each on a home network of its own behind the NAT,
// register through natsbc to the PBX that challenges REGISTER (401) and
// INVITE (407). Carol calls Alice, then Alice calls Carol; each call is
// answered at once, carries RTP both ways at both phones (counted on the
// wire) for 10 s, and the caller's hang-up reaches the callee.
func TestPhonesLinphone(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	carolLAN := l.AddPhoneLAN(t, 3)
	reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{Password: phonePassword, ChallengeInvite: true})
	n := l.StartNatsbc(t, BaseConfig+phonesPBXPeer)
	wireA := l.StartCapture(t, LAN1.Role, "alice-wire")
	wireC := l.StartCapture(t, carolLAN.Role, "carol-wire")
	// Alice speaks G.722 only (from a 16 kHz file: baresip 1.0 does not
	// resample its source), so both calls carry G.722 where the other
	// scenario carries opus.
	alice := l.StartBaresip(t, LAN1, BaresipOptions{User: "alice", Password: phonePassword, AutoAnswer: true,
		Codecs: "G722/16000/1", Source: "/usr/share/sounds/linphone/hello16000.wav"})
	carol := l.StartLinphone(t, carolLAN, LinphoneOptions{User: "carol", Password: phonePassword, AutoAnswer: true})

	alice.AwaitRegistered(t, 15*time.Second)
	carol.AwaitRegistered(t, 15*time.Second)
	assertPhoneBehindNAT(t, n, "alice")
	assertPhoneBehindNAT(t, n, "carol")
	assertPublicContacts(t, reg.AwaitContacts(t, "alice", 5*time.Second))
	assertPublicContacts(t, reg.AwaitContacts(t, "carol", 5*time.Second))

	// Call 1: linphone calls baresip, linphone hangs up.
	carol.Command(t, "call sip:alice@"+EdgeOutIP)
	est1C := carol.AwaitConnected(t, time.Time{}, 15*time.Second, "call 1 to alice connected")
	est1A := alice.AwaitEstablished(t, time.Time{}, 5*time.Second, "call 1 from carol established (auto-answer)")
	holdCall(t, linphoneTalk, est1C.At, alice.CloseWatch(), carol.CloseWatch())
	end1 := time.Now()
	carol.Command(t, "terminate")
	closed1 := alice.AwaitAfter(t, end1, 10*time.Second, "call 1 closed by carol's BYE (\"session closed\")", "session closed")
	carol.AwaitAfter(t, end1, 10*time.Second, "call 1 ended", "ended")
	// baresip's last line of a call; call 2's checks must not take it for theirs.
	alice.AwaitAfter(t, end1, 10*time.Second, "call 1 over (\"terminated\")", "terminated")

	// Call 2: baresip calls linphone, baresip hangs up.
	start2 := time.Now()
	alice.Command(t, "/dial sip:carol@"+EdgeOutIP)
	est2A := alice.AwaitEstablished(t, start2, 15*time.Second, "call 2 to carol established")
	est2C := carol.AwaitConnected(t, start2, 5*time.Second, "call 2 from alice connected (auto-answer)")
	holdCall(t, linphoneTalk, est2A.At, alice.CloseWatch(), carol.CloseWatch())
	end2 := time.Now()
	alice.Command(t, "/hangup")
	closed2 := carol.AwaitAfter(t, end2, 10*time.Second, "call 2 ended by alice's BYE", "ended")
	assertPhoneCallEnded(t, n, 2, 2)

	pktsA, pktsC := wireA.Stop(t), wireC.Stop(t)
	assertChallenged(t, "alice", pktsA, "REGISTER", 401)
	assertChallenged(t, "carol", pktsC, "REGISTER", 401)
	assertChallenged(t, "carol", pktsC, "INVITE", 407)
	assertChallenged(t, "alice", pktsA, "INVITE", 407)
	assertOffered(t, "carol", pktsC, carolLAN.IP, "opus/48000", "G722/8000", "PCMU/8000")
	assertOffered(t, "alice", pktsA, LAN1.IP, "G722/8000")
	assertPBXGotCredentials(t, reg)
	assertSIPOnlyWithNatsbc(t, "alice", pktsA, LAN1.IP)
	assertSIPOnlyWithNatsbc(t, "carol", pktsC, carolLAN.IP)
	assertByeReceived(t, "alice", pktsA, LAN1.IP, end1, closed1)
	assertByeReceived(t, "carol", pktsC, carolLAN.IP, end2, closed2)

	wa, wc := phoneWire{"alice", LAN1.IP, pktsA}, phoneWire{"carol", carolLAN.IP, pktsC}
	c1 := assertCallMedia(t, "call 1 (carol calls alice)", wc, wa, later(est1C.At, est1A.At), end1)
	c2 := assertCallMedia(t, "call 2 (alice calls carol)", wa, wc, later(est2A.At, est2C.At), end2)
	for i, c := range []string{c1, c2} {
		if c != "G722/8000" {
			t.Errorf("call %d: codec on the wire %q, want G722/8000 (all alice takes)", i+1, c)
		}
	}
	reg.AssertNeverReceived(t, "192.168.")
	n.AssertNoCrash(t)
}
