package sbc

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/policy"
)

// media.srtp per socket: a phone on a socket in mode sdes offers SDES-SRTP
// and the PBX (mode none by default) gets plain RTP/AVP without a key; the
// PBX's plain answer reaches the phone as RTP/SAVP with natsbc's own key,
// under the phone's tag.
func TestFlowSocketSRTPModes(t *testing.T) {
	t.Parallel()
	fb := newAnchoredBedOn(t, 45000, func(c *Config) { c.MediaSRTP = "none" },
		func(o *Options, _ netip.AddrPort) { o.Listeners[0].Spec.SRTP = "sdes" }) // the outside socket, where phones are

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

// The leg an offer goes to decides how natsbc writes it: a PBX peer with
// srtp: dtls is offered DTLS-SRTP (natsbc's fingerprint, ICE-lite) by a
// plain phone's call, before the PBX has said anything; its DTLS answer
// reaches the phone as plain RTP.
func TestFlowOfferToSecuredPeer(t *testing.T) {
	t.Parallel()
	fb := newAnchoredBedOn(t, 46000, nil,
		func(o *Options, pbx netip.AddrPort) {
			pol, err := policy.New(policy.Config{Peers: []policy.Peer{{
				Name: "pbx", Networks: []netip.Prefix{netip.PrefixFrom(pbx.Addr(), 32)},
				Address: pbx.String(), Role: policy.RolePBX, SRTP: "dtls",
			}}})
			if err != nil {
				t.Fatal(err)
			}
			o.Policy = pol
		})

	fb.phone.Send(t, fb.invite(newPhoneCall()))
	inv := fb.pbx.Expect(t, wait, "the INVITE at the PBX", isRequest(sip.INVITE))
	offer, err := media.ParseStreams(inv.Body())
	if err != nil {
		t.Fatal(err)
	}
	if !offer[0].DTLS() || offer[0].Security.Setup != "actpass" || !strings.Contains(string(inv.Body()), "a=ice-lite") {
		t.Fatalf("the srtp: dtls PBX was not offered DTLS-SRTP:\n%s", inv.Body())
	}
	const pbxAnswer = "v=0\r\no=- 1 1 IN IP4 " + pbxIP + "\r\ns=-\r\nc=IN IP4 " + pbxIP + "\r\nt=0 0\r\n" +
		"m=audio 5000 UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp-mux\r\na=setup:active\r\n" +
		"a=fingerprint:sha-256 71:AC:0E:5B:93:D2:48:F6:1C:A7:3E:90:2B:C5:64:DF:08:7A:B1:E3:56:9C:2F:D4:80:1B:6E:A5:37:C9:F2:0D\r\n"
	answer(t, fb.pbx, inv, 200, "OK", "pbx1", []string{"Contact: <sip:1000@" + fb.pbx.addr().String() + ">", "Content-Type: application/sdp"}, pbxAnswer)
	ok := fb.phone.Expect(t, wait, "200 at the phone", isResponse(200, sip.INVITE))
	if body := string(ok.Body()); !strings.Contains(body, " RTP/AVP 0") || strings.Contains(body, "fingerprint") {
		t.Fatalf("the phone's answer is not plain RTP:\n%s", body)
	}
}
