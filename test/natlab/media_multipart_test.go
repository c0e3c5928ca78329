//go:build linux

package natlab

import (
	"strings"
	"testing"
	"time"
)

// TestMediaMultipartOffer (media scenario multipart): the NATed phone
// calls as a carrier gateway does, its SDP in a multipart/mixed body next
// to an ISUP-like part (RFC 5621). natsbc anchors the SDP part: the PBX
// gets natsbc's address and relay port in it and no 192.168.x anywhere;
// the Content-Type with its boundary and the other part reach the PBX as
// they were sent. Media then flows both ways through the relay.
func TestMediaMultipartOffer(t *testing.T) {
	t.Parallel()
	const (
		contentType = "multipart/mixed;boundary=natlab-boundary-1"
		isupPart    = "--natlab-boundary-1\nContent-Type: application/x-natlab-isup\n" +
			"Content-Disposition: signal;handling=optional\n\nIAM cgpn=2000 cdpn=callee\n--natlab-boundary-1\n"
	)
	l := newMediaLab(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer+mediaKnobs{}.config())
	callee := l.StartSipp(t, "callee", mediaCallee(t, l, "callee", "media_callee.xml", calleeRTPPort))
	phone := l.StartSipp(t, "phone", mediaPhone(t, l, "phone", "media_phone_multipart.xml", 5060, phoneRTPPort, 6*time.Second))

	n.Log.Await(t, 10*time.Second, "call answered", nil)
	ps, cs := phoneSide(t, l, "phone", phone), calleeSide(t, l, "callee", callee, 0)
	inv := l.AwaitTraced(t, cs.sipp, callee, 5*time.Second, "natsbc's INVITE", First(func(m TracedMessage) bool {
		return m.Received && strings.HasPrefix(m.StartLine(), "INVITE ")
	}))
	if got := inv.Header("Content-Type"); got != contentType {
		t.Errorf("the PBX got Content-Type %q, want the phone's %q", got, contentType)
	}
	body := inv.Body()
	if !strings.HasPrefix(body, isupPart) {
		t.Errorf("the ISUP part did not reach the PBX as sent; body:\n%s", body)
	}
	if !strings.HasSuffix(strings.TrimRight(body, "\n"), "--natlab-boundary-1--") {
		t.Errorf("the body the PBX got does not end with the close delimiter:\n%s", body)
	}
	if strings.Contains(body, "192.168.") {
		t.Errorf("the phone's private address reached the PBX in the multipart body:\n%s", body)
	}
	assertAnchoredSDP(t, cs, ps)
	assertAnchoredSDP(t, ps, cs)

	m := startMediaPair(t, l, ps, cs)
	m.awaitBothReceiveAfter(t, time.Now(), "multipart call")
	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, callee, 10*time.Second)
	awaitEnded(t, n, "bye-from-a")
	n.AssertNoCrash(t)
}
