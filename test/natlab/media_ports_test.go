//go:build linux

package natlab

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestMediaPortsExhausted (media scenario e): the relay range holds two
// calls. Each call takes an RTP/RTCP pair per leg, so two calls take four
// pairs: media.ports 30000-30007. Two calls from the phone's host get their
// media through; a third concurrent INVITE gets 503 and natsbc says why
// ("SDP not anchored", no free relay ports); the first two calls' media
// keeps flowing both ways after the 503 and their calls end normally.
func TestMediaPortsExhausted(t *testing.T) {
	t.Parallel()
	l := newMediaLab(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer+mediaKnobs{Ports: "30000-30007"}.config())
	callee := l.StartSipp(t, "callee", mediaCallee(t, l, "callee", "media_callee.xml", calleeRTPPort, calleeRTPPort+10))

	var calls []mediaPair
	var phones []*Proc
	for i, name := range []string{"phone1", "phone2"} {
		p := l.StartSipp(t, name, mediaPhone(t, l, name, "media_phone_call.xml", 5060+2*i, phoneRTPPort+2*i, 10*time.Second))
		ps, cs := phoneSide(t, l, name, p), calleeSide(t, l, "callee", callee, i)
		assertAnchoredSDP(t, ps, cs)
		calls = append(calls, startMediaPair(t, l, ps, cs))
		phones = append(phones, p)
	}

	third := l.StartSipp(t, "phone3", mediaPhone(t, l, "phone3", "media_phone_rejected.xml", 5064, phoneRTPPort+4, 0))
	MustSucceed(t, third, 15*time.Second)
	refused := l.AwaitTraced(t, "phone3", third, time.Second, "the 503", First(Received("SIP/2.0 503", "1 INVITE")))
	e := n.Log.Await(t, 0, "SDP not anchored", nil)
	if !strings.Contains(e.Str("error"), "no free relay ports") {
		t.Errorf("\"SDP not anchored\" does not say the relay ports ran out: %s", e.Raw)
	}
	if r := n.Log.Await(t, 0, "call rejected", nil); r.Str("status") != "503" {
		t.Errorf("the third call was rejected with %s, want 503: %s", r.Str("status"), r.Raw)
	}

	for i, m := range calls {
		m.awaitBothReceiveAfter(t, refused.At, fmt.Sprintf("after the 503, call %d", i+1))
	}
	for _, p := range phones {
		MustSucceed(t, p, 30*time.Second)
	}
	MustSucceed(t, callee, 10*time.Second)
	ended := 0
	if _, ok := n.Log.WaitFunc(10*time.Second, func(e LogEntry) bool {
		if e.Msg() == "call ended" && e.Str("reason") == "bye-from-a" {
			ended++
		}
		return ended == 2
	}); !ok {
		t.Errorf("natsbc logged %d calls ended by the phone, want the two anchored ones", ended)
	}
	n.AssertNoCrash(t)
}
