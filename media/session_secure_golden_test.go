package media

import (
	"bytes"
	"fmt"
	"net/netip"
	"regexp"
	"testing"
)

// secureGoldenCases run bodies through a session whose legs have media
// security modes (leg a first, then leg b); the outputs, one after the
// other, are <name>.golden with natsbc's random keys, ICE credentials
// and fingerprint masked.
var secureGoldenCases = []struct {
	name  string
	modes [2]SecurityMode
	steps []sessionStep
}{
	// A browser calls through natsbc to a plain-RTP PBX: the PBX gets
	// RTP/AVP without ICE or DTLS lines, at natsbc's address even though
	// the browser wrote c=0.0.0.0 (mDNS candidates only); the browser gets
	// natsbc's DTLS answer: ICE-lite, one host candidate, setup:passive,
	// rtcp-mux and the BUNDLE group under the browser's mid.
	{"secure_chrome_to_pbx", [2]SecurityMode{SecurityDTLS, SecurityNone}, []sessionStep{
		{LegA, ctSDP, "chrome_offer.sdp", 1},
		{LegB, ctSDP, "freeswitch_answer.sdp", 1},
	}},
	// Firefox writes its fingerprint at session level: it holds for the
	// section all the same.
	{"secure_firefox_to_pbx", [2]SecurityMode{SecurityDTLS, SecurityNone}, []sessionStep{
		{LegA, ctSDP, "firefox_offer.sdp", 1},
		{LegB, ctSDP, "freeswitch_answer.sdp", 1},
	}},
	// Chrome bundles audio and video (a=group:BUNDLE 0 1); natsbc relays
	// each on a port pair of its own, so its answer bundles only the first
	// (RFC 9143 §7.3.1) and the browser runs video on its own transport.
	{"secure_chrome_av_to_pbx", [2]SecurityMode{SecurityDTLS, SecurityNone}, []sessionStep{
		{LegA, ctSDP, "chrome_av_offer.sdp", 1},
		{LegB, ctSDP, "freeswitch_av_answer.sdp", 1},
	}},
	// The PBX calls a browser: natsbc offers DTLS with setup:actpass; the
	// browser's answer reaches the PBX as plain RTP.
	{"secure_pbx_to_chrome", [2]SecurityMode{SecurityNone, SecurityDTLS}, []sessionStep{
		{LegA, ctSDP, "asterisk_offer.sdp", 1},
		{LegB, ctSDP, "chrome_answer.sdp", 1},
	}},
	// An SDES phone calls the PBX: natsbc answers under the phone's first
	// tag with its own key.
	{"secure_sdes_to_pbx", [2]SecurityMode{SecuritySDES, SecurityNone}, []sessionStep{
		{LegA, ctSDP, "baresip_sdes_offer.sdp", 1},
		{LegB, ctSDP, "freeswitch_answer.sdp", 1},
	}},
	// The PBX calls an SDES phone: natsbc offers RTP/SAVP with its key.
	{"secure_pbx_to_sdes", [2]SecurityMode{SecurityNone, SecuritySDES}, []sessionStep{
		{LegA, ctSDP, "asterisk_offer.sdp", 1},
		{LegB, ctSDP, "baresip_sdes_answer.sdp", 1},
	}},
	// A DTLS-SRTP phone without ICE: natsbc still answers as a lite agent;
	// the phone may ignore it.
	{"secure_dtls_phone_to_pbx", [2]SecurityMode{SecurityDTLS, SecurityNone}, []sessionStep{
		{LegA, ctSDP, "baresip_dtls_offer.sdp", 1},
		{LegB, ctSDP, "freeswitch_answer.sdp", 1},
	}},
	// The offers real clients sent through natsbc in the NAT lab
	// (test/natlab, recorded with NATLAB_OFFERS=1): Chromium through JsSIP,
	// baresip with SDES and with DTLS-SRTP (fingerprint at session level,
	// no ICE, no rtcp-mux: natsbc's answer has no a=rtcp-mux either).
	{"secure_lab_chrome_to_pbx", [2]SecurityMode{SecurityDTLS, SecurityNone}, []sessionStep{
		{LegA, ctSDP, "lab_chrome_offer.sdp", 1},
		{LegB, ctSDP, "freeswitch_answer.sdp", 1},
	}},
	{"secure_lab_baresip_sdes_to_pbx", [2]SecurityMode{SecuritySDES, SecurityNone}, []sessionStep{
		{LegA, ctSDP, "lab_baresip_sdes_offer.sdp", 1},
		{LegB, ctSDP, "freeswitch_answer.sdp", 1},
	}},
	{"secure_lab_baresip_dtls_to_pbx", [2]SecurityMode{SecurityDTLS, SecurityNone}, []sessionStep{
		{LegA, ctSDP, "lab_baresip_dtls_offer.sdp", 1},
		{LegB, ctSDP, "freeswitch_answer.sdp", 1},
	}},
	// A leg in mode none that receives SDES anyway: natsbc ends it on that
	// leg and offers the other leg (sdes) its own key.
	{"secure_sdes_both_legs", [2]SecurityMode{SecuritySDES, SecuritySDES}, []sessionStep{
		{LegA, ctSDP, "baresip_sdes_offer.sdp", 1},
		{LegB, ctSDP, "baresip_sdes_answer.sdp", 1},
	}},
}

// natsbcSecrets are natsbc's random values in its secured SDP.
var natsbcSecrets = []struct {
	re   *regexp.Regexp
	mask string
}{
	{regexp.MustCompile(`inline:[A-Za-z0-9+/=]+`), "inline:<natsbc key>"},
	{regexp.MustCompile(`a=ice-ufrag:\S+`), "a=ice-ufrag:<natsbc ufrag>"},
	{regexp.MustCompile(`a=ice-pwd:\S+`), "a=ice-pwd:<natsbc pwd>"},
	{regexp.MustCompile(`a=fingerprint:sha-256 [0-9A-F:]+`), "a=fingerprint:sha-256 <natsbc certificate>"},
}

func TestSecureSessionRewriteGolden(t *testing.T) {
	for _, tc := range secureGoldenCases {
		t.Run(tc.name, func(t *testing.T) {
			r := newSessionRig(t, Config{})
			rs := r.s.(*relaySession)
			r.s.SetPeer(LegA, PeerInfo{SignalSource: aSignal, NATed: true, Security: tc.modes[LegA]})
			r.s.SetPeer(LegB, PeerInfo{SignalSource: netip.MustParseAddrPort("10.0.0.10:5060"), Security: tc.modes[LegB]})
			fp, err := rs.anchor.fingerprint()
			if err != nil {
				t.Fatal(err)
			}
			facing := [2]netip.Addr{outsideFacing, insideFacing}
			var all bytes.Buffer
			for i, step := range tc.steps {
				in := readTestdata(t, step.input)
				to := step.from.other()
				out, err := r.s.Rewrite(step.from, step.contentType, in, facing[to])
				if err != nil {
					t.Fatalf("step %d (%s): %v", i, step.input, err)
				}
				checkNoAddressLeaks(t, in, out, false)
				checkSecuredFor(t, i, out, tc.modes[to], fp)
				out = bytes.ReplaceAll(out, []byte(fmt.Sprintf(" %d ", rs.origins[to].sessID)), []byte(" <id of leg "+to.String()+"> "))
				for _, s := range natsbcSecrets {
					out = s.re.ReplaceAll(out, []byte(s.mask))
				}
				fmt.Fprintf(&all, "=== %d: %s from leg %s (%s), sent on leg %s (%s)\r\n", i, step.input, step.from, tc.modes[step.from], to, tc.modes[to])
				all.Write(out)
			}
			compareGolden(t, tc.name+".golden", all.Bytes())
		})
	}
}

// checkSecuredFor holds an output to what a peer of mode m must get, read
// back with the SDP reader: DTLS with natsbc's fingerprint and ICE
// credentials, SDES with a key, or plain RTP with neither.
func checkSecuredFor(t *testing.T, step int, out []byte, m SecurityMode, fingerprint string) {
	t.Helper()
	streams, err := ParseStreams(out)
	if err != nil {
		t.Fatalf("step %d: output does not parse: %v", step, err)
	}
	for _, st := range streams {
		got := wireOf(st)
		switch {
		case m == SecurityDTLS && (got != wireDTLS || st.Security.Fingerprints[0] != fingerprint || st.Security.ICEUfrag == ""):
			t.Errorf("step %d: stream %d is not natsbc's DTLS end: %+v", step, st.Index, st)
		case m == SecuritySDES && (got != wireSDES || len(st.Crypto) != 1 || len(st.Crypto[0].KeySalt) != 30):
			t.Errorf("step %d: stream %d is not natsbc's SDES end: %+v", step, st.Index, st)
		case m == SecurityNone && (got != wirePlain || hasSAVP(st.Proto) || st.Security.ICEUfrag != ""):
			t.Errorf("step %d: stream %d is not plain RTP: %+v", step, st.Index, st)
		}
	}
}
