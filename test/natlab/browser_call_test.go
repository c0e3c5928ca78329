//go:build linux

package natlab

import (
	"fmt"
	"net/url"
	"testing"
	"time"
)

// browserPackets is how many audio packets Chromium's getStats must count
// each way (2 s of 20 ms packets) before the call counts as carrying audio.
const browserPackets = 100

// TestBrowserCallOverWSS (secure media, a real browser): headless Chromium
// behind the port-randomising NAT runs JsSIP, which registers over WSS to
// natsbc's "browsers" socket (srtp: dtls; a certificate the test makes,
// trusted by its SPKI hash) and through it to the Kamailio
// PBX (digest), then calls "echo": the PBX hands the call to sipp on the
// inside, which answers PCMU and echoes the RTP natsbc sends it. natsbc
// speaks ICE-lite and DTLS-SRTP with Chromium and plain RTP with the PBX
// side. Asserted: registered; the call confirmed (JsSIP); Chromium's
// getStats shows audio both ways (the echo came back decrypted); tshark
// on the PBX side's wire counts plain RTP both ways between natsbc's
// inside address and the echo; the page's hang-up ends the call at
// natsbc (BYE) with no call or media session left.
func TestBrowserCallOverWSS(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	cert := l.MakeCert(t, "natsbc", EdgeOutIP)
	reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{Password: phonePassword})
	echo := l.StartEchoCallee(t, reg)
	pbxWire := l.StartCapture(t, NSPBX, "pbx-wire")
	sl := secureListen{Name: "browsers", Transport: "wss", Port: 8443, SRTP: "dtls"}
	n := l.startSecureNatsbc(t, sl, cert)
	wss := fmt.Sprintf("wss://%s:%d", EdgeOutIP, sl.Port)
	b := l.StartBrowser(t, LAN1, BrowserOptions{
		Page: "call.html",
		Params: url.Values{
			"wss": {wss}, "uri": {"sip:alice@" + EdgeOutIP}, "password": {phonePassword},
			"target": {"sip:" + echoUser + "@" + EdgeOutIP}, "debug": {"1"},
		},
		TrustSPKI: []string{cert.SPKIHash},
	})

	b.Await(t, 15*time.Second, "JsSIP connected to natsbc over "+wss, "ws connected", "ws disconnected")
	regd := b.Await(t, 15*time.Second, "registered through natsbc (JsSIP 'registered')", "registered",
		"registration failed", "ws disconnected")
	t.Logf("JsSIP registered: %s", regd.Raw)
	assertPublicContacts(t, reg.AwaitContacts(t, "alice", 5*time.Second))

	invite := b.Await(t, 15*time.Second, "JsSIP sending its INVITE", "invite sent")
	confirmed := b.Await(t, 20*time.Second, "the call to echo confirmed (JsSIP 'confirmed')", "confirmed",
		"call failed", "call ended", "ws disconnected")
	t.Logf("natsbc's answer to Chromium:\n%s", confirmed.Str("answer"))
	if t.Failed() {
		t.Logf("Chromium's offer:\n%s", invite.Str("sdp"))
	}

	// Audio both ways at the browser: what it sent came back through
	// natsbc, the echo and natsbc again, and decrypted.
	var last LogEntry
	got, ok := b.Events.WaitFunc(20*time.Second, func(e LogEntry) bool {
		if e.Msg() != "stats" {
			return e.Msg() == "call ended"
		}
		last = e
		in, _ := Num(e, "inbound", "packetsReceived")
		out, _ := Num(e, "outbound", "packetsSent")
		return in >= browserPackets && out >= browserPackets
	})
	switch {
	case !ok:
		in, _ := Num(last, "inbound", "packetsReceived")
		out, _ := Num(last, "outbound", "packetsSent")
		t.Fatalf("Chromium's getStats 20 s after the call was confirmed: outbound-rtp packetsSent %v, inbound-rtp packetsReceived %v, want %d each; transport %v, candidate pair %v",
			out, in, browserPackets, last.Attrs["transport"], last.Attrs["pair"])
	case got.Msg() == "call ended":
		t.Fatalf("the call ended before audio crossed both ways: %s; last stats %s", got.Raw, last.Raw)
	}
	t.Logf("Chromium's stats: outbound %v, inbound %v, transport %v, pair %v",
		got.Attrs["outbound"], got.Attrs["inbound"], got.Attrs["transport"], got.Attrs["pair"])
	heard := time.Now()
	pkts := pbxWire.AwaitPacket(t, 10*time.Second, "plain RTP from the echo after Chromium counted its audio",
		func(p WirePacket) bool { return p.RTPType >= 0 && hostOf(p.Src) == CalleeIP && p.At.After(heard) })
	assertEchoedRTP(t, pkts, EdgeInIP, confirmed.At, heard, browserPackets/2)

	b.Command(t, "hangup")
	b.Await(t, 10*time.Second, "the call ended by the page's hang-up", "call ended")
	MustSucceed(t, echo, 15*time.Second)
	assertNoCallsLeft(t, l, n)
	reg.AssertNeverReceived(t, "192.168.")
	n.AssertNoCrash(t)
}
