//go:build linux

package natlab

import (
	"strings"
	"testing"
	"time"
)

// TestBaresipHarness checks the secure-media phone without natsbc, so a
// failure of TestBaresipSecureMediaOverTLS is natsbc's: baresip behind the
// NAT, its account on SIP over TLS with SDES (srtp-mand) or DTLS-SRTP
// (dtls_srtp), loads the module, completes a TLS handshake with a socket
// at natsbc's address and port 5061 that shows the test's certificate
// (its sip_cafile), and sends its REGISTER and its INVITE with the offer
// natsbc's secure leg will have to take. baresip 1.0 (libre 1.1) loads
// sip_cafile but verifies no server certificate (a socket with another
// certificate gets its REGISTER just the same; there is no
// sip_verify_server before baresip 2): unlike the browser's, its trust
// in the certificate cannot be proven, only that TLS works.
func TestBaresipHarness(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		mediaEnc, offer string
		want            []string
	}{
		{"srtp-mand", "lab_baresip_sdes_offer.sdp", []string{"m=audio", "RTP/SAVP", "a=crypto:"}},
		{"dtls_srtp", "lab_baresip_dtls_offer.sdp", []string{"m=audio", "UDP/TLS/RTP/SAVP", "a=fingerprint:SHA-256", "a=setup:actpass"}},
	} {
		t.Run(c.mediaEnc, func(t *testing.T) {
			t.Parallel()
			l := NewLab(t)
			cert := l.MakeCert(t, "natsbc", EdgeOutIP)
			tap := l.StartSIPTap(t, NSEdge, "tls", EdgeOutIP+":5061", cert)
			phone := l.StartBaresip(t, LAN1, BaresipOptions{User: "alice", Password: phonePassword,
				TLS: true, CAFile: cert.CAFile, MediaEnc: c.mediaEnc})
			reg := tap.Await(t, 15*time.Second, "REGISTER")
			if via := reg.Via(); via == nil || !strings.EqualFold(via.Transport, "TLS") {
				t.Errorf("baresip's REGISTER has Via %v, want SIP/2.0/TLS", via)
			}
			if hs := tap.Handshakes(); len(hs) == 0 || !strings.HasPrefix(hs[0], "ok from "+NATPublicIP+":") {
				t.Errorf("TLS handshakes at the tap %q, want one from the NAT's %s", hs, NATPublicIP)
			}
			// The account's transport=tls goes on the dialled URI by itself.
			phone.Command(t, "/dial sip:"+echoUser+"@"+EdgeOutIP)
			offer := SDPOf(tap.Await(t, 15*time.Second, "INVITE"))
			for _, w := range c.want {
				if !strings.Contains(offer, w) {
					t.Errorf("baresip's %s offer has no %q:\n%s", c.mediaEnc, w, offer)
				}
			}
			saveOffer(t, c.offer, offer)
		})
	}
}
