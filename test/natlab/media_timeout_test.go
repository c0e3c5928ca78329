//go:build linux

package natlab

import (
	"strings"
	"testing"
	"time"
)

// mediaTimeout is natsbc's media.timeout in scenario d: long enough that
// the RTP endpoints, started once the call is answered, send their first
// packets within it on a loaded CI machine.
const mediaTimeout = 6 * time.Second

// TestMediaTimeout (media scenario d): the call's media flows both ways,
// then the PBX side's RTP endpoint dies while the phone keeps talking:
// one-way audio is no dead call (the timeout is the call's, as
// rtpengine's), so the call stays up beyond the timeout. Then the phone's
// endpoint dies too: media.timeout (6 s) after the last packet natsbc logs
// "media timeout" and sends BYE on both legs with
// Reason: SIP;cause=408;text="media timeout" (RFC 3326);
// both sipp runs, which wait for that BYE and check its Reason, pass, and
// the call ends with reason media-timeout. Not before: the callee rings
// 7 s before it answers, longer than the timeout, and silence while a
// call rings does not count.
func TestMediaTimeout(t *testing.T) {
	t.Parallel()
	const reason = `SIP;cause=408;text="media timeout"`
	l := newMediaLab(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer+mediaKnobs{Timeout: mediaTimeout}.config())
	callee := l.StartSipp(t, "callee", mediaCallee(t, l, "callee", "media_callee_wait_bye.xml", calleeRTPPort))
	phone := l.StartSipp(t, "phone", mediaPhone(t, l, "phone", "media_phone_wait_bye.xml", 5060, phoneRTPPort, 0))

	answered := n.Log.Await(t, 15*time.Second, "call answered", nil)
	if started := n.Log.Await(t, 0, "call started", nil); answered.At.Sub(started.At) < mediaTimeout {
		t.Errorf("the call rang %v, want longer than the %v media timeout", answered.At.Sub(started.At), mediaTimeout)
	}
	ps, cs := phoneSide(t, l, "phone", phone), calleeSide(t, l, "callee", callee, 0)
	m := startMediaPair(t, l, ps, cs)
	m.awaitBothReceiveAfter(t, time.Now(), "before the PBX side dies")

	last := m.pbx.Stop(t)
	t.Logf("the PBX side stopped after sending %d packets", last.Sent)
	if e, timedOut := n.Log.Wait(mediaTimeout+time.Second, "media timeout", nil); timedOut {
		t.Fatalf("natsbc ended the call while the phone's audio still flowed: %s", e.Raw)
	}

	stopped := time.Now()
	last = m.phone.Stop(t)
	t.Logf("the phone stopped after sending %d packets", last.Sent)
	e := n.Log.Await(t, mediaTimeout+5*time.Second, "media timeout", nil)
	if !strings.Contains(e.Str("reason"), "no media from either leg") {
		t.Errorf("media timeout does not say that both legs fell silent: %s", e.Raw)
	}
	MustSucceed(t, phone, 10*time.Second)
	MustSucceed(t, callee, 10*time.Second)
	awaitEnded(t, n, "media-timeout")
	for _, side := range []mediaSide{ps, cs} {
		msgs, err := l.ReadSippTrace(side.sipp)
		if err != nil {
			t.Fatal(err)
		}
		bye, ok := FirstReceived(msgs, "BYE ")
		if !ok {
			t.Errorf("%s got no BYE", side.sipp)
			continue
		}
		if got := bye.Header("Reason"); got != reason {
			t.Errorf("%s's BYE has Reason %q, want %q", side.sipp, got, reason)
		}
		// Silence counts from the last packet, which left before stopped.
		if d := bye.At.Sub(stopped); d < mediaTimeout-100*time.Millisecond || d > mediaTimeout+3*time.Second {
			t.Errorf("%s got the BYE %v after the phone stopped, want about the %v timeout", side.sipp, d, mediaTimeout)
		} else {
			t.Logf("%s got the BYE %v after the phone stopped", side.sipp, d.Round(time.Millisecond))
		}
	}
	n.AssertNoCrash(t)
}
