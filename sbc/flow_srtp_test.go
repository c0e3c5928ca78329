package sbc

import (
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

// media.srtp per socket: a phone on a socket in mode sdes offers SDES-SRTP
// and the PBX (mode none by default) gets plain RTP/AVP without a key; the
// PBX's plain answer reaches the phone as RTP/SAVP with natsbc's own key,
// under the phone's tag.
func TestFlowSocketSRTPModes(t *testing.T) {
	t.Parallel()
	anchor, err := media.NewRelayAnchor(media.Config{PortMin: 45000, PortMax: 45999, Drain: time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = anchor.Close() })
	fb := &flowBed{log: newLogSink()}
	fb.phone = newTestPeer(t, "phone", phoneIP)
	fb.pbx = newTestPeer(t, "pbx", pbxIP)
	fb.srv, fb.outside, fb.inside = startFlowServerWith(t, fb.log, fb.pbx.addr(),
		func(c *Config) { c.MediaSRTP = "none" },
		func(o *Options, _ netip.AddrPort) {
			o.Media = anchor
			o.Listeners[0].Spec.SRTP = "sdes" // the outside socket, where phones are
		})
	fb.phone.target, fb.pbx.target = fb.outside, fb.inside
	fb.waitServing(t)

	const phoneKey = "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa"
	offer := strings.Replace(sdpBody(privateIP, 4000), "RTP/AVP", "RTP/SAVP", 1) +
		"a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:" + phoneKey + "\r\n"
	pc := newPhoneCall()
	fb.phone.Send(t, fb.inviteWith(pc, offer))
	inv := fb.pbx.Expect(t, wait, "the INVITE at the PBX", isRequest(sip.INVITE))
	atPBX := string(inv.Body())
	if !strings.Contains(atPBX, " RTP/AVP 0") || strings.Contains(atPBX, "crypto") {
		t.Fatalf("the PBX was offered secure media:\n%s", atPBX)
	}
	answer(t, fb.pbx, inv, 200, "OK", "pbx1", []string{"Contact: <sip:1000@" + fb.pbx.addr().String() + ">", "Content-Type: application/sdp"},
		sdpBody(fb.pbx.addr().Addr().String(), 5000))
	ok := fb.phone.Expect(t, wait, "200 at the phone", isResponse(200, sip.INVITE))
	streams, err := media.ParseStreams(ok.Body())
	if err != nil {
		t.Fatal(err)
	}
	st := streams[0]
	if st.Proto != "RTP/SAVP" || len(st.Crypto) != 1 || st.Crypto[0].Tag != 7 || strings.Contains(string(ok.Body()), phoneKey) {
		t.Fatalf("the phone did not get natsbc's own SDES answer under its tag:\n%s", ok.Body())
	}
}
