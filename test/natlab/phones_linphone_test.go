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
// and two baresip phones (alice, dave), each on a home network of its own
// behind the NAT, register through natsbc to the PBX that challenges
// REGISTER (401) and INVITE (407). Carol calls Alice (G.722: all alice
// takes), then Dave calls Carol (PCMU: all dave takes); each call is
// answered at once, carries RTP both ways at both phones (counted on the
// wire) for 10 s, and the caller's hang-up reaches the callee. With
// TestPhonesBaresip (opus) every codec the phones offer crosses natsbc.
func TestPhonesLinphone(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	daveLAN := l.AddPhoneLAN(t, 2)
	carolLAN := l.AddPhoneLAN(t, 3)
	reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{Password: phonePassword, ChallengeInvite: true})
	n := l.StartNatsbc(t, BaseConfig+phonesPBXPeer)
	wireA := l.StartCapture(t, LAN1.Role, "alice-wire")
	wireD := l.StartCapture(t, daveLAN.Role, "dave-wire")
	wireC := l.StartCapture(t, carolLAN.Role, "carol-wire")
	// baresip 1.0 does not resample its source: a G.722 phone talks from a
	// 16 kHz file, a PCMU one from an 8 kHz file.
	alice := l.StartBaresip(t, LAN1, BaresipOptions{User: "alice", Password: phonePassword, AutoAnswer: true,
		Codecs: "G722/16000/1", Source: "/usr/share/sounds/linphone/hello16000.wav"})
	dave := l.StartBaresip(t, daveLAN, BaresipOptions{User: "dave", Password: phonePassword,
		Codecs: "PCMU/8000/1", Source: "/usr/share/sounds/linphone/hello8000.wav"})
	carol := l.StartLinphone(t, carolLAN, LinphoneOptions{User: "carol", Password: phonePassword, AutoAnswer: true})

	alice.AwaitRegistered(t, 15*time.Second)
	dave.AwaitRegistered(t, 15*time.Second)
	carol.AwaitRegistered(t, 15*time.Second)
	for _, user := range []string{"alice", "dave", "carol"} {
		assertPhoneBehindNAT(t, n, user)
		assertPublicContacts(t, reg.AwaitContacts(t, user, 5*time.Second))
	}

	// Call 1: linphone calls baresip, linphone hangs up.
	carol.Command(t, "call sip:alice@"+EdgeOutIP)
	est1C := carol.AwaitConnected(t, time.Time{}, 15*time.Second, "call 1 to alice connected")
	est1A := alice.AwaitEstablished(t, time.Time{}, 5*time.Second, "call 1 from carol established (auto-answer)")
	holdCall(t, linphoneTalk, est1C.At, alice.CloseWatch(), carol.CloseWatch())
	end1 := time.Now()
	carol.Command(t, "terminate")
	closed1 := alice.AwaitAfter(t, end1, 10*time.Second, "call 1 closed by carol's BYE (\"session closed\")", "session closed")
	carol.AwaitAfter(t, end1, 10*time.Second, "call 1 ended", "ended")

	// Call 2: baresip calls linphone, baresip hangs up.
	start2 := time.Now()
	dave.Command(t, "/dial sip:carol@"+EdgeOutIP)
	est2D := dave.AwaitEstablished(t, start2, 15*time.Second, "call 2 to carol established")
	est2C := carol.AwaitConnected(t, start2, 5*time.Second, "call 2 from dave connected (auto-answer)")
	holdCall(t, linphoneTalk, est2D.At, dave.CloseWatch(), carol.CloseWatch())
	end2 := time.Now()
	dave.Command(t, "/hangup")
	closed2 := carol.AwaitAfter(t, end2, 10*time.Second, "call 2 ended by dave's BYE", "ended")
	assertPhoneCallEnded(t, n, 2, 2)

	pktsA, pktsD, pktsC := wireA.Stop(t), wireD.Stop(t), wireC.Stop(t)
	assertChallenged(t, "alice", pktsA, "REGISTER", 401)
	assertChallenged(t, "dave", pktsD, "REGISTER", 401)
	assertChallenged(t, "carol", pktsC, "REGISTER", 401)
	assertChallenged(t, "carol", pktsC, "INVITE", 407)
	assertChallenged(t, "dave", pktsD, "INVITE", 407)
	assertOffered(t, "carol", pktsC, carolLAN.IP, "opus/48000", "G722/8000", "PCMU/8000")
	assertOffered(t, "dave", pktsD, daveLAN.IP, "PCMU/8000")
	assertPBXGotCredentials(t, reg)
	assertSIPOnlyWithNatsbc(t, "alice", pktsA, LAN1.IP)
	assertSIPOnlyWithNatsbc(t, "dave", pktsD, daveLAN.IP)
	assertSIPOnlyWithNatsbc(t, "carol", pktsC, carolLAN.IP)
	assertByeReceived(t, "alice", pktsA, LAN1.IP, end1, closed1)
	assertByeReceived(t, "carol", pktsC, carolLAN.IP, end2, closed2)

	wa, wd, wc := phoneWire{"alice", LAN1.IP, pktsA}, phoneWire{"dave", daveLAN.IP, pktsD}, phoneWire{"carol", carolLAN.IP, pktsC}
	if c := assertCallMedia(t, "call 1 (carol calls alice)", wc, wa, later(est1C.At, est1A.At), end1); c != "G722/8000" {
		t.Errorf("call 1: codec on the wire %q, want G722/8000 (all alice takes)", c)
	}
	if c := assertCallMedia(t, "call 2 (dave calls carol)", wd, wc, later(est2D.At, est2C.At), end2); c != "PCMU/8000" {
		t.Errorf("call 2: codec on the wire %q, want PCMU/8000 (all dave takes)", c)
	}
	reg.AssertNeverReceived(t, "192.168.")
	n.AssertNoCrash(t)
}
