//go:build linux

package natlab

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestMediaLabSelfcheck proves the media scenarios' half of the lab without
// natsbc: the phone's scenarios talk straight through the NAT to a sipp UAS
// standing at natsbc's outside address, and the RTP endpoints exchange
// media through the NAT (the UAS's endpoint answers where the phone's
// packets come from, as natsbc does for a NATed phone). So when a media
// scenario fails with natsbc in between, the failure is natsbc's.
// The UAS plays natsbc where natsbc acts itself: it sends the media
// timeout's BYE with its Reason, and refuses a call with 503. The T.38
// pair shows UDPTL crossing the NAT both ways without natsbc.
func TestMediaLabSelfcheck(t *testing.T) {
	t.Parallel()
	t.Run("call", func(t *testing.T) {
		t.Parallel()
		l := newMediaLab(t)
		callee := l.StartSipp(t, "callee", directCallee(t, l, "media_callee.xml"))
		phone := l.StartSipp(t, "phone", mediaPhone(t, l, "phone", "media_phone_call.xml", 5060, phoneRTPPort, 7*time.Second))
		ps, cs := directSides(t, l, phone, callee)
		m := startMediaPair(t, l, ps, cs)
		time.Sleep(3 * time.Second) // a short talk: a duration, not a wait for an event
		phoneRep, pbxRep := m.pauseAndCollect(t)
		assertDelivered(t, "phone -> callee", phoneRep, pbxRep)
		assertDelivered(t, "callee -> phone", pbxRep, phoneRep)
		assertOnlyFrom(t, "the phone", phoneRep, cs.own.Media)
		assertOneNATSource(t, "the callee", pbxRep)
		MustSucceed(t, phone, 30*time.Second)
		MustSucceed(t, callee, 10*time.Second)
	})
	t.Run("hold", func(t *testing.T) {
		t.Parallel()
		l := newMediaLab(t)
		callee := l.StartSipp(t, "callee", directCallee(t, l, "media_callee_hold.xml"))
		phone := l.StartSipp(t, "phone", mediaPhone(t, l, "phone", "media_phone_hold.xml", 5060, phoneRTPPort, 0))
		ps, cs := directSides(t, l, phone, callee)
		m := startMediaPair(t, l, ps, cs)
		holdAndResume(t, l, m, ps, cs, phone, callee)
		MustSucceed(t, phone, 30*time.Second)
		MustSucceed(t, callee, 10*time.Second)
	})
	t.Run("bye-reason", func(t *testing.T) {
		t.Parallel()
		l := newMediaLab(t)
		// The phone waits for the BYE (media_phone_wait_bye.xml checks its
		// Reason), then the callee does (media_callee_wait_bye.xml).
		uas := l.StartSipp(t, "uas", directCallee(t, l, "media_selfcheck_bye_uas.xml"))
		phone := l.StartSipp(t, "phone", mediaPhone(t, l, "phone", "media_phone_wait_bye.xml", 5060, phoneRTPPort, 0))
		MustSucceed(t, phone, 30*time.Second)
		MustSucceed(t, uas, 30*time.Second)
		callee := l.StartSipp(t, "callee", directCallee(t, l, "media_callee_wait_bye.xml"))
		uac := l.StartSipp(t, "uac", mediaPhone(t, l, "uac", "media_selfcheck_bye_uac.xml", 5062, phoneRTPPort, time.Second))
		MustSucceed(t, uac, 30*time.Second)
		// sipp's exit after its last message can take seconds on a loaded
		// machine: the bound is for a hang, not for speed.
		MustSucceed(t, callee, 30*time.Second)
	})
	t.Run("t38", func(t *testing.T) {
		t.Parallel()
		l := newMediaLab(t)
		callee := l.StartSipp(t, "callee", directCallee(t, l, "media_callee_t38.xml"))
		phone := l.StartSipp(t, "phone", mediaPhone(t, l, "phone", "media_phone_t38.xml", 5060, phoneRTPPort, 0))
		ps, cs := directSides(t, l, phone, callee)
		m := startMediaPair(t, l, ps, cs)
		acked := l.AwaitTraced(t, cs.sipp, callee, 15*time.Second, "the ACK of its T.38 re-INVITE", First(Sent("ACK", "101 ACK")))
		m.phone.Stop(t)
		m.pbx.Stop(t)
		fax := startUDPTLPair(t, l, ps, cs)
		// As in TestMediaT38ReInvite: the fax machines stop 10 s after the
		// ACK, before the phone's BYE (12 s) ends the call.
		time.Sleep(time.Until(acked.At.Add(10 * time.Second))) // a fixed fax duration, not a wait for an event
		phoneRep, pbxRep := fax.pauseAndCollectBy(t, udptlReceived)
		l.AwaitTraced(t, ps.sipp, phone, 20*time.Second, "its BYE after the fax", First(Sent("BYE", "2 BYE")))
		assertUDPTLDelivered(t, "phone -> callee", phoneRep, pbxRep)
		assertUDPTLDelivered(t, "callee -> phone", pbxRep, phoneRep)
		assertOneNATSource(t, "the callee", pbxRep)
		MustSucceed(t, phone, 30*time.Second)
		MustSucceed(t, callee, 10*time.Second)
	})
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		l := NewLab(t)
		uas := l.StartSipp(t, "uas", directCallee(t, l, "media_selfcheck_refuse.xml"))
		phone := l.StartSipp(t, "phone", mediaPhone(t, l, "phone", "media_phone_rejected.xml", 5060, phoneRTPPort, 0))
		MustSucceed(t, phone, 30*time.Second)
		MustSucceed(t, uas, 10*time.Second)
	})
}

// directCallee is a media scenario's callee at natsbc's outside address,
// for the self-checks.
func directCallee(t *testing.T, l *Lab, scenario string) Sipp {
	s := mediaCallee(t, l, "callee", scenario, calleeRTPPort)
	s.NS, s.IP = NSEdge, EdgeOutIP
	return s
}

// directSides reads both sides of a call without natsbc: the phone sends
// to the callee's SDP address; the callee answers where the phone's media
// comes from (the phone's SDP names its private address).
func directSides(t *testing.T, l *Lab, phone, callee *Proc) (ps, cs mediaSide) {
	t.Helper()
	ps, cs = phoneSide(t, l, "phone", phone), calleeSide(t, l, "callee", callee, 0)
	cs.ns, cs.symmetric, cs.facing = NSEdge, true, netip.MustParseAddr(PhoneIP)
	return ps, cs
}

// assertOneNATSource checks that all media came from one NAT mapping (the
// NAT's public address, one port).
func assertOneNATSource(t *testing.T, who string, r RTPReport) {
	t.Helper()
	for src := range r.Sources {
		if len(r.Sources) != 1 || !strings.HasPrefix(src, NATPublicIP+":") {
			t.Errorf("%s received from %v, want one mapping of the NAT's %s", who, r.Sources, NATPublicIP)
		}
	}
}
