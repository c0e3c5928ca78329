//go:build linux

package natlab

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCallFailsOverToNextSRVTarget (issue 10): the PBX peer is configured
// by name only (address: pbx.lab), and natsbc asks the lab's DNS (dnsd in
// the edge namespace, sip.dns_servers) per RFC 3263: NAPTR → SRV → A. The
// SRV record of priority 10 names a.pbx.lab (10.0.0.10, where nothing
// answers); priority 20 names b.pbx.lab (the callee at 10.0.0.30). The
// INVITE goes to the first, times out (Timer B, 64×T1 with sip.t1 200ms),
// and goes to the second with a new branch (RFC 3263 §4.3); the call
// completes there and holds 40 s. The callee's Request-URI keeps the
// peer's name (sip:callee@pbx.lab).
func TestCallFailsOverToNextSRVTarget(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	dnsAddr := EdgeInIP + ":5353"
	dnsd := startDNS(t, l, dnsAddr, []string{
		`pbx.lab. 60 IN NAPTR 10 10 "s" "SIP+D2U" "" _sip._udp.pbx.lab.`,
		`_sip._udp.pbx.lab. 60 IN SRV 10 0 5060 a.pbx.lab.`,
		`_sip._udp.pbx.lab. 60 IN SRV 20 0 5060 b.pbx.lab.`,
		`a.pbx.lab. 60 IN A ` + PBXIP,
		`b.pbx.lab. 60 IN A ` + CalleeIP,
	})
	cfg := strings.Replace(BaseConfig, "  t1: 500ms\n", "  t1: 200ms\n  dns_servers: [\""+dnsAddr+"\"]\n", 1)
	n := l.StartNatsbc(t, cfg+`peers:
  - name: pbx
    networks: [10.0.0.0/24]
    address: pbx.lab
    role: pbx
routes:
  - from: "*"
    to: pbx
`)
	callee := l.StartSipp(t, "callee", calleeAt("callee.xml", CalleeIP))
	phone := l.StartSipp(t, "phone", phoneCall("phone_call.xml"))

	retried := n.Log.Await(t, 30*time.Second, "INVITE retried at the next callee address", nil)
	if retried.Str("from") != PBXIP+":5060" || retried.Str("to") != CalleeIP+":5060" || retried.Str("after") != "timeout" {
		t.Errorf("retry went from %q to %q after %q, want %s:5060 to %s:5060 after timeout: %s",
			retried.Str("from"), retried.Str("to"), retried.Str("after"), PBXIP, CalleeIP, retried.Raw)
	}
	n.Log.Await(t, 10*time.Second, "call answered", nil)
	assertHeldCall(t, n, phone, callee)

	msgs, err := l.ReadSippTrace("callee")
	if err != nil {
		t.Fatal(err)
	}
	if inv, ok := FirstReceived(msgs, "INVITE "); !ok || !strings.HasPrefix(inv.StartLine(), "INVITE sip:callee@pbx.lab ") {
		t.Errorf("callee's INVITE %q, want Request-URI sip:callee@pbx.lab", inv.StartLine())
	}
	// The look-ups of RFC 3263 §4.1/§4.2, each once (the cache holds the
	// answers for their 60 s TTL).
	queries, err := os.ReadFile(dnsd.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"NAPTR pbx.lab.", "SRV _sip._udp.pbx.lab.", "A a.pbx.lab.", "A b.pbx.lab."} {
		if c := strings.Count(string(queries), "QUERY "+q+"\n"); c != 1 {
			t.Errorf("dnsd was asked %q %d times, want once; its log:\n%s", q, c, queries)
		}
	}
	n.AssertNoCrash(t)
}

// startDNS builds ./dnsd and runs it in the edge namespace on addr (UDP)
// with the given records, and waits until it serves.
func startDNS(t *testing.T, l *Lab, addr string, records []string) *Proc {
	t.Helper()
	bin := filepath.Join(l.Dir, "bin", "dnsd")
	if out, err := exec.Command(goBinary(), "build", "-o", bin, "./dnsd").CombinedOutput(); err != nil {
		t.Fatalf("go build ./dnsd: %v\n%s", err, out)
	}
	zone := filepath.Join(l.Dir, "zone.txt")
	if err := os.WriteFile(zone, []byte(strings.Join(records, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := l.Start(t, NSEdge, "dnsd", bin, "-listen", addr, "-zone", zone)
	host, port, _ := strings.Cut(addr, ":")
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	l.WaitListening(t, NSEdge, "udp", host, n, p)
	return p
}
