//go:build linux

package natlab

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// secureListen is natsbc's outside socket for the secure-media clients.
type secureListen struct {
	Name      string // "browsers", "phones-tls"
	Transport string // "wss", "tls"; "udp" (SIP in the clear)
	Port      int    // on EdgeOutIP
	// SRTP is the media security natsbc speaks on the legs of this
	// socket: "sdes" or "dtls".
	SRTP string
}

// secureConfig is natsbc's config of the secure-media scenarios: the
// clients' socket with the lab's certificate, the inside socket, the
// Kamailio PBX as peer "pbx" for the inside network with plain RTP
// (srtp: none) and no NAT handling (the echo only answers what reaches
// it: natsbc must send first, not wait to latch its private SDP
// address), media anchored with passthrough for legs without a
// setting, and the admin endpoint (metrics). A UDP socket has no tls:
// key; without SRTP (the control case) every srtp: key is left out too:
// natsbc as it was before media security.
func secureConfig(l secureListen, cert LabCert) string {
	listenSecurity, peerSRTP, mediaSRTP := "", "", ""
	if l.Transport == "tls" || l.Transport == "wss" {
		listenSecurity = fmt.Sprintf("    tls: {cert_file: %s, key_file: %s}\n", cert.CertFile, cert.KeyFile)
	}
	if l.SRTP != "" {
		listenSecurity += "    srtp: " + l.SRTP + "\n"
		peerSRTP, mediaSRTP = "    srtp: none\n", "  srtp: passthrough\n"
	}
	return fmt.Sprintf(`sip:
  t1: 500ms
  t2: 4s
  t4: 5s
shutdown:
  drain_timeout: 2s
listen:
  - name: %s
    address: %s:%d
    transport: %s
%s  - name: inside
    address: %s:5060
    transport: both
peers:
  - name: pbx
    networks: [10.0.0.0/24]
    address: %s:5060
    transport: udp
    role: pbx
    nat: never
%smedia:
  anchor: true
%sadmin:
  listen: %s
`, l.Name, EdgeOutIP, l.Port, l.Transport, listenSecurity, EdgeInIP, PBXIP, peerSRTP, mediaSRTP, adminAddr)
}

// startSecureNatsbc starts natsbc on secureConfig. Until natsbc takes the
// config's TLS/WSS and srtp keys, it refuses it: the failure says so.
func (l *Lab) startSecureNatsbc(t *testing.T, sl secureListen, cert LabCert) *Natsbc {
	t.Helper()
	if sl.SRTP != "" {
		t.Logf("natsbc: %s socket %s:%d with srtp: %s towards its clients, plain RTP towards the PBX", sl.Transport, EdgeOutIP, sl.Port, sl.SRTP)
	}
	return l.StartNatsbc(t, secureConfig(sl, cert))
}

// assertNoCallsLeft waits for natsbc's "call ended" of the call the
// client ended (its BYE: reason bye-from-a) and checks, on its admin
// endpoint, that no call and no media session is left.
func assertNoCallsLeft(t *testing.T, l *Lab, n *Natsbc) {
	t.Helper()
	e, ok := n.Log.Wait(10*time.Second, "call ended", map[string]string{"reason": "bye-from-a"})
	if !ok {
		t.Fatalf("natsbc logged no \"call ended\" with reason bye-from-a (the client's BYE) within 10 s of the hang-up; it logged %d other \"call ended\"",
			len(n.Log.Find("call ended", nil)))
	}
	t.Logf("natsbc: call ended: %s", e.Raw)
	for _, m := range []string{"natsbc_active_calls", "natsbc_media_sessions"} {
		if !poll(5*time.Second, func() bool { return metric(t, l, m) == 0 }) {
			t.Errorf("natsbc's %s is %v after the hang-up, want 0", m, metric(t, l, m))
		}
	}
	if ended := n.Log.Find("call ended", nil); len(ended) != 1 {
		var reasons []string
		for _, e := range ended {
			reasons = append(reasons, e.Str("reason"))
		}
		t.Errorf("natsbc logged %d \"call ended\" lines (reasons %s), want 1", len(ended), strings.Join(reasons, ", "))
	}
}
