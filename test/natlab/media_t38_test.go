//go:build linux

package natlab

import (
	"strconv"
	"testing"
	"time"
)

// t38Timeout is natsbc's media.timeout in the T.38 scenario: shorter than
// the fax phase, so only UDPTL keeps the call alive then.
const t38Timeout = 6 * time.Second

// TestMediaT38ReInvite (media scenario t38): the NATed phone calls the PBX
// with audio; 3 s after answering, the PBX switches the call to fax with a
// T.38 re-INVITE (m=image udptl t38), which the phone accepts. natsbc keeps
// the call's relay ports and its own o= line on each leg (same session id,
// version up by one: RFC 3264 §8). Then both endpoints send UDPTL, whose
// first byte is 0x00 (STUN's range by first byte, RFC 7983) for the first
// 256 packets: at least 95 % must arrive each way through the NAT, only
// from natsbc's relay, for longer than media.timeout (6 s) with no RTP at
// all, and natsbc counts them. The phone then hangs up: the call must end
// by its BYE, not by the media timeout.
func TestMediaT38ReInvite(t *testing.T) {
	t.Parallel()
	l := newMediaLab(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer+mediaKnobs{Timeout: t38Timeout}.config())
	callee := l.StartSipp(t, "callee", mediaCallee(t, l, "callee", "media_callee_t38.xml", calleeRTPPort))
	phone := l.StartSipp(t, "phone", mediaPhone(t, l, "phone", "media_phone_t38.xml", 5060, phoneRTPPort, 0))

	n.Log.Await(t, 10*time.Second, "call answered", nil)
	ps, cs := phoneSide(t, l, "phone", phone), calleeSide(t, l, "callee", callee, 0)
	m := startMediaPair(t, l, ps, cs)
	m.awaitBothReceiveAfter(t, time.Now(), "audio before the fax")

	// The re-INVITE and its answer, as natsbc relayed them.
	acked := l.AwaitTraced(t, cs.sipp, callee, 15*time.Second, "the ACK of its T.38 re-INVITE", First(Sent("ACK", "101 ACK")))
	offer := mustSDP(t, l.AwaitTraced(t, ps.sipp, phone, 5*time.Second, "the T.38 re-INVITE", First(InDialog("INVITE "))))
	answer := mustSDP(t, l.AwaitTraced(t, cs.sipp, callee, 5*time.Second, "the 200 to its T.38 re-INVITE", First(Received("SIP/2.0 200", "101 INVITE"))))
	assertT38Reoffer(t, ps, offer, "the T.38 re-INVITE")
	assertT38Reoffer(t, cs, answer, "the answer to the T.38 re-INVITE")

	// The fax machines take over the ports from the audio and send until
	// the phone hangs up, 12 s after the ACK: longer than media.timeout
	// with UDPTL only, every one of the first 256 datagrams starting with
	// 0x00. The media timeout must not come.
	audioPhone, audioPBX := m.phone.Stop(t), m.pbx.Stop(t)
	// From here no RTP flows: the media timeout can only be held off by
	// the UDPTL, however late a loaded machine starts the fax machines.
	rtpStopped := time.Now()
	fax := startUDPTLPair(t, l, ps, cs)
	faxStart := time.Now()
	// The fax machines stop 10 s after the ACK, 2 s (less than the media
	// timeout) before the phone's BYE tears the relay down: what they sent
	// was all sent while natsbc relayed.
	if e, timedOut := n.Log.Wait(time.Until(acked.At.Add(10*time.Second)), "media timeout", nil); timedOut {
		t.Fatalf("natsbc ended the fax call as silent while UDPTL flowed: %s", e.Raw)
	}
	phoneRep, pbxRep := fax.pauseAndCollectBy(t, udptlReceived)
	bye := l.AwaitTraced(t, ps.sipp, phone, 20*time.Second, "its BYE after the fax", First(Sent("BYE", "2 BYE")))
	if e, timedOut := n.Log.Wait(0, "media timeout", nil); timedOut {
		t.Fatalf("natsbc ended the fax call as silent while UDPTL flowed: %s", e.Raw)
	}
	if d := bye.At.Sub(rtpStopped); d < t38Timeout+time.Second {
		t.Fatalf("the call went %v without RTP, not longer than the %v media timeout: the scenario proves nothing", d, t38Timeout)
	}
	assertUDPTLDelivered(t, "phone -> PBX", phoneRep, pbxRep)
	assertUDPTLDelivered(t, "PBX -> phone", pbxRep, phoneRep)
	assertOnlyFrom(t, "the phone's fax", phoneRep, ps.got.Media)
	assertOnlyFrom(t, "the PBX's fax", pbxRep, cs.got.Media)
	t.Logf("fax from %v to %v after the re-INVITE's ACK", faxStart.Sub(acked.At).Round(time.Millisecond), bye.At.Sub(acked.At).Round(time.Millisecond))

	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, callee, 10*time.Second)
	aToB, bToA := endedMedia(t, awaitEnded(t, n, "bye-from-a"))
	t.Logf("natsbc: a->b %+v, b->a %+v", aToB, bToA)
	// natsbc counts the UDPTL it relayed with the audio: at least what
	// arrived, at most what was sent.
	if low := audioPBX.Received + pbxRep.NonRTP; aToB.Packets < low || aToB.Packets > audioPhone.Sent+phoneRep.Sent {
		t.Errorf("natsbc counted %d packets a->b; the PBX side received %d RTP + %d UDPTL, the phone sent %d + %d",
			aToB.Packets, audioPBX.Received, pbxRep.NonRTP, audioPhone.Sent, phoneRep.Sent)
	}
	if low := audioPhone.Received + phoneRep.NonRTP; bToA.Packets < low || bToA.Packets > audioPBX.Sent+pbxRep.Sent {
		t.Errorf("natsbc counted %d packets b->a; the phone received %d RTP + %d UDPTL, the PBX side sent %d + %d",
			bToA.Packets, audioPhone.Received, phoneRep.NonRTP, audioPBX.Sent, pbxRep.Sent)
	}
	if aToB.Dropped+bToA.Dropped != 0 {
		t.Errorf("natsbc dropped packets of a call nobody attacked: a->b %d, b->a %d", aToB.Dropped, bToA.Dropped)
	}
	n.AssertNoCrash(t)
}

// assertT38Reoffer checks an SDP natsbc sent side after the switch to fax:
// T.38 on the call's relay address, natsbc's address only, and natsbc's
// o= line of that leg with its version up by one.
func assertT38Reoffer(t *testing.T, side mediaSide, got TracedSDP, what string) {
	t.Helper()
	if got.Proto != "udptl" {
		t.Errorf("%s: %s carries m= protocol %q, want udptl:\n%s", side.sipp, what, got.Proto, got.Body)
	}
	if got.Media != side.got.Media {
		t.Errorf("%s: %s names relay %s, the call's audio used %s", side.sipp, what, got.Media, side.got.Media)
	}
	if err := got.OnlyAddress(side.facing.String()); err != nil {
		t.Errorf("%s: %s: %v", side.sipp, what, err)
	}
	if got.Session != side.got.Session {
		t.Errorf("%s: %s has o= session %q, the call's first SDP %q (RFC 3264 §8: it must not change)", side.sipp, what, got.Session, side.got.Session)
	}
	first, _ := strconv.ParseUint(side.got.Version, 10, 64)
	if v, err := strconv.ParseUint(got.Version, 10, 64); err != nil || v != first+1 {
		t.Errorf("%s: %s has o= version %q after %q, want it one higher (the SDP changed)", side.sipp, what, got.Version, side.got.Version)
	}
}

// startUDPTLPair starts both sides' fax endpoints on the ports of their
// audio, the PBX side once the phone's first datagram reached it (natsbc
// sends to a NATed phone only where it sends from).
func startUDPTLPair(t *testing.T, l *Lab, phone, callee mediaSide) mediaPair {
	t.Helper()
	pbxSpec, phoneSpec := callee.rtpSpec(true), phone.rtpSpec(false)
	pbxSpec.UDPTL, phoneSpec.UDPTL = true, true
	pbx := l.StartRTPPeer(t, "udptl-"+callee.sipp, pbxSpec)
	ph := l.StartRTPPeer(t, "udptl-"+phone.sipp, phoneSpec)
	pbx.Await(t, 15*time.Second, "the phone's first UDPTL datagram through natsbc", func(r RTPReport) bool { return r.NonRTP > 0 })
	pbx.Resume(t)
	ph.Await(t, 15*time.Second, "the PBX's first UDPTL datagram through natsbc", func(r RTPReport) bool { return r.NonRTP > 0 })
	return mediaPair{phone: ph, pbx: pbx}
}

// udptlReceived counts the UDPTL datagrams an endpoint received.
func udptlReceived(r RTPReport) uint64 { return r.NonRTP }

// assertUDPTLDelivered: at least 95 % of what from sent reached to, and
// enough of it that the first 100 (all starting with 0x00) were among it.
func assertUDPTLDelivered(t *testing.T, direction string, from, to RTPReport) {
	t.Helper()
	ratio := float64(to.NonRTP) / float64(max(from.Sent, 1))
	t.Logf("%s: %d UDPTL datagrams sent, %d received (%.1f %%)", direction, from.Sent, to.NonRTP, 100*ratio)
	if from.Sent < 100 || ratio < 0.95 {
		t.Errorf("%s: %d of %d UDPTL datagrams arrived (%.1f %%), want at least 95 %% of at least 100 "+
			"(natsbc drops UDPTL if it classifies it by first byte)", direction, to.NonRTP, from.Sent, 100*ratio)
	}
}
