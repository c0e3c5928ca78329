//go:build linux

package natlab

import (
	"fmt"
	"testing"
	"time"
)

// videoTimeout is natsbc's media.timeout in the silent video scenario.
const videoTimeout = 6 * time.Second

// TestMediaSilentVideo (media scenario video): the NATed phone and the PBX
// agree on audio and video (both a=sendrecv), but the cameras stay off:
// only the audio carries RTP. natsbc relays both streams (the SDP each side
// gets names natsbc's relay for each) and, its media timeout being the
// call's and not a stream's, keeps the call up for three times
// media.timeout (6 s) with the video m= line silent, until the phone hangs
// up. The call must end by the phone's BYE, never by "media timeout".
func TestMediaSilentVideo(t *testing.T) {
	t.Parallel()
	const hold = 3 * videoTimeout
	l := newMediaLab(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer+mediaKnobs{Timeout: videoTimeout}.config())
	calleeSipp := calleeAt("media_callee_video.xml", PBXIP)
	calleeSipp.Args = l.writeInjectionFile(t, "callee_rtp_ports", fmt.Sprintf("%d;%d", calleeRTPPort, calleeRTPPort+2))
	callee := l.StartSipp(t, "callee", calleeSipp)
	phoneSipp := phoneCall("media_phone_video.xml")
	phoneSipp.Hold = hold
	phoneSipp.Args = l.writeInjectionFile(t, "phone_rtp_port", fmt.Sprintf("%d;%d", phoneRTPPort, phoneRTPPort+2))
	phone := l.StartSipp(t, "phone", phoneSipp)

	answered := n.Log.Await(t, 10*time.Second, "call answered", nil)
	ps, cs := phoneSide(t, l, "phone", phone), calleeSide(t, l, "callee", callee, 0)
	for _, s := range []mediaSide{ps, cs} {
		if len(s.got.Streams) != 2 {
			t.Fatalf("%s got %d m= lines, want audio and video:\n%s", s.sipp, len(s.got.Streams), s.got.Body)
		}
		if v := s.got.Streams[1]; v.Media != "video" || v.Port == 0 || v.Addr != s.facing {
			t.Errorf("%s got video at %s:%d, want it relayed at natsbc's %s:\n%s", s.sipp, v.Addr, v.Port, s.facing, s.got.Body)
		}
	}
	m := startMediaPair(t, l, ps, cs)

	// The media timeout must not come while the audio flows, however long
	// the video is silent (twice the timeout here); the media pair stops
	// before the phone's BYE (at the hold's end) tears the relay down, so
	// no packet in flight is counted lost.
	if e, timedOut := n.Log.Wait(hold-videoTimeout, "media timeout", nil); timedOut {
		t.Fatalf("natsbc ended a call whose audio flows because its video was silent: %s", e.Raw)
	}
	phoneRep, pbxRep := m.pauseAndCollect(t)
	assertDelivered(t, "phone -> PBX audio", phoneRep, pbxRep)
	assertDelivered(t, "PBX -> phone audio", pbxRep, phoneRep)
	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, callee, 10*time.Second)
	ended := awaitEnded(t, n, "bye-from-a")
	if d := ended.At.Sub(answered.At); d < 2*videoTimeout {
		t.Errorf("the call lasted %v after the answer, want more than twice the %v media timeout", d, videoTimeout)
	}
	n.AssertNoCrash(t)
}
