//go:build linux

package natlab

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/natsbc/natsbc/certs/certstest"
)

// TrunkTLSPort is the TLS port of the lab's TLS trunk and of natsbc's
// inside TLS socket.
const TrunkTLSPort = 5061

// TestTLSTrunkMutualTLS: a phone (sipp, UDP, behind the NAT) calls through
// natsbc to a carrier trunk over TLS: Kamailio with the tls module, whose
// certificates, and natsbc's, a test CA made at test time. Kamailio
// requires and verifies natsbc's client certificate; natsbc checks the
// trunk's name (trunk.example, RFC 5922 §7.2). The callee behind the trunk
// hangs up: its BYE reaches natsbc on the TLS connection natsbc opened
// (natsbc's Via alias, RFC 5923), and the phone leaves the call. Both
// namespaces hold exactly one TLS connection: natsbc's to the trunk.
func TestTLSTrunkMutualTLS(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	dir := filepath.Join(l.Dir, "tls")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ca := certstest.NewCA(t, dir, "lab")
	trunk := ca.Issue(t, dir, "trunk", "trunk.example", ProxyIP)
	server := ca.Issue(t, dir, "natsbc", EdgeInIP)
	client := ca.Issue(t, dir, "natsbc-client", "natsbc.example")
	tlsCfg := filepath.Join(dir, "kamailio-tls.cfg")
	if err := os.WriteFile(tlsCfg, []byte(`[server:default]
method = TLSv1.2+
verify_certificate = yes
require_certificate = yes
private_key = `+trunk.KeyFile+`
certificate = `+trunk.CertFile+`
ca_list = `+ca.File+`

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
`), 0o644); err != nil {
		t.Fatal(err)
	}

	n := l.StartNatsbc(t, `sip:
  t1: 500ms
listen:
  - name: outside
    address: `+EdgeOutIP+`:5060
    transport: udp
  - name: inside-tls
    address: `+EdgeInIP+`:`+strconv.Itoa(TrunkTLSPort)+`
    transport: tls
    tls:
      cert_file: `+server.CertFile+`
      key_file: `+server.KeyFile+`
peers:
  - name: trunk
    networks: [`+ProxyIP+`/32]
    address: `+ProxyIP+`:`+strconv.Itoa(TrunkTLSPort)+`
    transport: tls
    role: trunk
    tls:
      ca_file: `+ca.File+`
      server_name: trunk.example
      cert_file: `+client.CertFile+`
      key_file: `+client.KeyFile+`
routes:
  - from: "*"
    to: trunk
`)
	callee := calleeAt("callee_bye_after_silence.xml", CalleeIP)
	callee.Hold = 3 * time.Second
	calleeProc := l.StartSipp(t, "callee", callee)
	kam := l.runKamailio(t, "kamailio-tls", "kamailio-tls-trunk.cfg", ProxyIP, 5060,
		"__CALLEE__", CalleeIP+":5060", "__TLS_PORT__", strconv.Itoa(TrunkTLSPort), "__TLS_CFG__", tlsCfg)
	l.WaitListening(t, NSPBX, "tcp", ProxyIP, TrunkTLSPort, kam)
	ps := phoneCall("phone_wait_bye.xml")
	ps.Timeout = 60 * time.Second
	phone := l.StartSipp(t, "phone", ps)

	opened := n.Log.Await(t, 10*time.Second, "TLS connection to peer opened", nil)
	if opened.Str("server_name") != "trunk.example" || opened.Str("client_certificate") != "true" {
		t.Errorf("natsbc's TLS connection: %s", opened.Raw)
	}
	n.Log.Await(t, 10*time.Second, "call answered", nil)
	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, calleeProc, 15*time.Second)
	awaitEnded(t, n, "bye-from-b")
	assertOneCallEnded(t, n)

	// Kamailio verified natsbc's certificate, and its BYE to natsbc went
	// over TLS on natsbc's connection.
	klog, err := os.ReadFile(kam.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(klog), "trunk got INVITE over tls from "+EdgeInIP) || !strings.Contains(string(klog), "verified=1 cn=natsbc-client") {
		t.Errorf("Kamailio did not take natsbc's INVITE over TLS with a verified client certificate:\n%s", klog)
	}
	if !strings.Contains(string(klog), "trunk sent BYE over tls to "+EdgeInIP+":"+strconv.Itoa(TrunkTLSPort)) {
		t.Errorf("Kamailio sent nothing over TLS to natsbc (the BYE):\n%s", klog)
	}
	trunkSide := tlsConnections(t, l, NSPBX)
	edgeSide := tlsConnections(t, l, NSEdge)
	if len(trunkSide) != 1 || len(edgeSide) != 1 {
		t.Errorf("TLS connections: trunk side %q, natsbc side %q; want natsbc's one connection to the trunk on both", trunkSide, edgeSide)
	}
	for _, c := range edgeSide {
		if strings.Contains(c, EdgeInIP+":"+strconv.Itoa(TrunkTLSPort)+" ") {
			t.Errorf("natsbc's TLS socket accepted a connection (the trunk did not reuse natsbc's): %s", c)
		}
	}
	n.AssertNoCrash(t)
}

// tlsConnections lists the established TCP connections to or from port
// 5061 in a namespace (ss), one line each.
func tlsConnections(t *testing.T, l *Lab, ns string) []string {
	t.Helper()
	out := l.inNS(t, ns, "ss", "-Htn", "state", "established", "( sport = :"+strconv.Itoa(TrunkTLSPort)+" or dport = :"+strconv.Itoa(TrunkTLSPort)+" )")
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}
