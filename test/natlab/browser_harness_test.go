//go:build linux

package natlab

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// jssipVersion is the vendored testdata/jssip/jssip.min.js.
const jssipVersion = "3.13.8"

// TestBrowserHarness checks the lab's browser without natsbc, so a failure
// of TestBrowserCallOverWSS is natsbc's, not the harness's: headless
// Chromium runs as root in the phone's namespace behind the NAT, loads the
// page the test serves, JsSIP loads, the fake microphone works, two
// RTCPeerConnections in the page exchange audio both ways (WebRTC works
// in a namespace), one of them counting its own stream sent back to it
// (what the echo callee does), and JsSIP reaches a WSS socket at natsbc's address
// through the NAT, trusting the test's certificate by its SPKI hash, and
// sends its INVITE with Chromium's offer. A second socket with a
// certificate Chromium was not told about is refused: the trust is the
// flag's doing, not a browser that trusts anything.
func TestBrowserHarness(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	cert := l.MakeCert(t, "natsbc", EdgeOutIP)
	stranger := l.MakeCert(t, "stranger", EdgeOutIP)
	tap := l.StartSIPTap(t, NSEdge, "wss", EdgeOutIP+":8443", cert)
	refused := l.StartSIPTap(t, NSEdge, "wss", EdgeOutIP+":8444", stranger)
	b := l.StartBrowser(t, LAN1, BrowserOptions{
		Page: "harness.html",
		Params: url.Values{
			"wss":       {"wss://" + EdgeOutIP + ":8443"},
			"untrusted": {"wss://" + EdgeOutIP + ":8444"},
			"uri":       {"sip:alice@" + EdgeOutIP},
			"target":    {"sip:echo@" + EdgeOutIP},
		},
		TrustSPKI: []string{cert.SPKIHash},
	})
	loaded := b.Await(t, time.Second, "the page loaded", "loaded")
	if v := loaded.Str("jssip"); v != jssipVersion {
		t.Errorf("JsSIP.version %q, want the vendored %s: %s", v, jssipVersion, loaded.Raw)
	}
	if loaded.Str("secureContext") != "true" {
		t.Errorf("the page on http://127.0.0.1 is no secure context (getUserMedia needs one): %s", loaded.Raw)
	}
	t.Logf("browser: %s, JsSIP %s", loaded.Str("userAgent"), loaded.Str("jssip"))
	mic := b.Await(t, 10*time.Second, "the fake microphone (getUserMedia)", "microphone")
	t.Logf("microphone: %s", mic.Str("label"))

	lb := b.Await(t, 20*time.Second, "audio across the in-page loopback call", "loopback")
	own, _ := Num(lb, "caller", "outbound", "ssrc")
	if echoed, _ := Num(lb, "caller", "inbound", "ssrc"); echoed != own || own == 0 {
		t.Errorf("loopback: the caller received SSRC %v and sent %v, want its own back (the echo call's case)", echoed, own)
	}
	for _, side := range []string{"caller", "callee"} {
		in, _ := Num(lb, side, "inbound", "packetsReceived")
		out, _ := Num(lb, side, "outbound", "packetsSent")
		t.Logf("loopback %s: sent %v, received %v RTP packets; transport %v", side, out, in, lb.Attrs[side].(map[string]any)["transport"])
		if in < 50 || out < 50 {
			t.Errorf("loopback %s: sent %v and received %v audio packets, want 50 each way (getStats: %v)", side, out, in, lb.Attrs[side])
		}
	}

	b.Await(t, 15*time.Second, "JsSIP connected over WSS", "ws connected")
	invite := tap.Await(t, 15*time.Second, "INVITE")
	if via := invite.Via(); via == nil || !strings.EqualFold(via.Transport, "WSS") {
		t.Errorf("JsSIP's INVITE has Via %v, want SIP/2.0/WSS", via)
	}
	offer := SDPOf(invite)
	for _, want := range []string{"UDP/TLS/RTP/SAVPF", "a=fingerprint:sha-256", "a=setup:actpass", "a=ice-ufrag:", "a=rtcp-mux",
		"PCMU/8000", "typ host", LAN1.IP} {
		if !strings.Contains(offer, want) {
			t.Errorf("Chromium's offer in JsSIP's INVITE has no %q:\n%s", want, offer)
		}
	}
	if hs := tap.Handshakes(); len(hs) == 0 || !strings.HasPrefix(hs[0], "ok from "+NATPublicIP+":") {
		t.Errorf("TLS handshakes at the WSS tap %q, want one from the NAT's %s", hs, NATPublicIP)
	}
	saveOffer(t, "lab_chrome_offer.sdp", offer)

	b.Await(t, 10*time.Second, "the untrusted WSS socket refused", "untrusted refused")
	if hs := refused.Handshakes(); len(hs) == 0 || !strings.Contains(hs[0], "remote error: tls:") {
		t.Errorf("TLS handshakes at the socket with a certificate Chromium was not told to trust: %q, want its refusal (a TLS alert from Chromium)", hs)
	}
}
