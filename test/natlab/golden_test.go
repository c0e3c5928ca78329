//go:build linux

package natlab

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/natsbc/natsbc/capture"
	"github.com/natsbc/natsbc/diagnosis"
)

// goldenDir holds the captures natsbc trace is tested on without root
// (capture/golden_test.go); NATLAB_GOLDEN=1 writes them there anew.
const goldenDir = "../../capture/testdata/golden"

// TestGoldenCaptures (issue 14) records calls between two sipp sides
// without natsbc in the path, captured on the wire with tshark, and checks
// natsbc trace's verdict on each against the expected file next to the
// committed capture: a healthy call over UDP and over TCP, a caller that
// never ACKs, a firewall that drops the ACK, and a capture that starts
// mid-call.
func TestGoldenCaptures(t *testing.T) {
	t.Parallel()
	for _, g := range []struct {
		name   string
		phone  string
		tcp    bool
		setup  func(t *testing.T, l *Lab)
		midway bool
		via    string // the proxy the caller sends to (empty: the callee itself)
		// calls, when set, starts both sides itself; iface is where the
		// caller's hop is captured (default lo).
		calls func(t *testing.T, l *Lab) (caller, callee *Proc)
		iface string
	}{
		{name: "healthy-udp", phone: "phone_call.xml"},
		{name: "healthy-tcp", phone: "phone_call.xml", tcp: true},
		{name: "caller-never-acks", phone: "phone_noack.xml"},
		{name: "firewall-drops-ack", phone: "phone_call.xml", setup: func(t *testing.T, l *Lab) {
			l.inNS(t, NSPBX, "iptables", "-A", "INPUT", "-p", "udp", "-m", "string", "--string", "ACK sip:", "--algo", "bm", "-j", "DROP")
		}},
		{name: "starts-mid-call", phone: "phone_call.xml", midway: true},
		// A Kamailio that fixes every 2xx Contact, in front of a second
		// record-routing proxy: the caller's ACK goes to that proxy, which
		// takes it for itself; the callee ends the call 32 s later.
		{name: "excessive-nat-handling", phone: "phone_call.xml", via: ProxyIP + ":5070", setup: func(t *testing.T, l *Lab) {
			l.runKamailio(t, "proxy2", "kamailio-proxy.cfg", ProxyIP, 5060, "__CALLEE__", PBXIP+":5060")
			l.runKamailio(t, "fixer", "kamailio-fix-every-contact.cfg", ProxyIP, 5070, "__CALLEE__", ProxyIP+":5060")
		}},
		// A Kamailio edge that reaches the NATed phone where its REGISTER
		// came from but leaves the Contact of its 2xx private: the
		// caller's ACK goes back to the edge, which cannot reach it.
		{name: "no-nat-handling", iface: "eth0", calls: func(t *testing.T, l *Lab) (*Proc, *Proc) {
			l.runKamailioIn(t, NSEdge, "edge", "kamailio-edge-no-nat.cfg", EdgeInIP, 5060, "__OUT_IP__", EdgeOutIP, "__IN_IP__", EdgeInIP)
			callee := l.StartSipp(t, "callee", registeredPhone("bob", 3*time.Second))
			l.AwaitTraced(t, "callee", callee, 10*time.Second, "the edge's 200 to the REGISTER", First(Received("SIP/2.0 200", "REGISTER")))
			caller := l.StartSipp(t, "phone", Sipp{Scenario: "phone_call.xml", NS: NSPBX, IP: CarrierIP, Port: 5060,
				Remote: EdgeInIP + ":5060", Service: "bob", Hold: 3 * time.Second})
			return caller, callee
		}},
	} {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			l := NewLab(t)
			if g.setup != nil {
				g.setup(t, l)
			}
			pcap := filepath.Join(l.Dir, g.name+".pcap")
			var shark *Proc
			iface := g.iface
			if iface == "" {
				iface = "lo"
			}
			startCapture := func() { shark = l.startCapture(t, pcap, iface) }
			if !g.midway {
				startCapture()
			}
			callee := calleeAt("callee.xml", PBXIP)
			callee.TCP = g.tcp
			remote := PBXIP + ":5060"
			if g.via != "" {
				remote = g.via
			}
			phone := Sipp{Scenario: g.phone, NS: NSPBX, IP: CarrierIP, Port: 5060, TCP: g.tcp, Remote: remote, Service: "callee", Hold: 3 * time.Second}
			if g.midway {
				phone.Hold = 10 * time.Second // tshark starts within the call
			}
			var cp, pp *Proc
			if g.calls != nil {
				pp, cp = g.calls(t, l)
			} else {
				cp = l.StartSipp(t, "callee", callee)
				pp = l.StartSipp(t, "phone", phone)
			}
			if g.midway {
				l.AwaitTraced(t, "callee", cp, 10*time.Second, "the phone's ACK", First(Received("ACK", "")))
				startCapture()
			}
			// The calls end by themselves (BYE, or the callee giving up
			// its 2xx); their outcome is what the capture shows.
			_ = pp.Wait(60 * time.Second)
			_ = cp.Wait(60 * time.Second)
			if err := shark.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			_ = shark.Wait(10 * time.Second)

			got := goldenVerdict(t, pcap)
			want, err := os.ReadFile(filepath.Join(goldenDir, g.name+".verdict"))
			if err != nil {
				t.Fatal(err)
			}
			if got != strings.TrimSpace(string(want)) {
				t.Errorf("natsbc trace on the recorded %s: %q, want %q", g.name, got, strings.TrimSpace(string(want)))
			}
			if os.Getenv("NATLAB_GOLDEN") == "1" {
				b, err := os.ReadFile(pcap)
				if err == nil {
					err = os.WriteFile(filepath.Join(goldenDir, g.name+".pcap"), b, 0o644)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// startCapture runs tshark in the PBX namespace on iface (its loopback
// when both sides and the proxies live there), on the caller's hop only
// (one capture point, as a capture taken at the phone), and returns once
// it captures.
func (l *Lab) startCapture(t *testing.T, pcap, iface string) *Proc {
	t.Helper()
	ready := make(chan struct{})
	var once bool
	p := l.start(t, NSPBX, "tshark-"+filepath.Base(pcap), func(line string) {
		if !once && strings.Contains(line, "Capturing on") {
			once = true
			close(ready)
		}
	}, "tshark", "-q", "-i", iface, "-f", "host "+CarrierIP, "-w", pcap)
	select {
	case <-ready:
	case <-time.After(15 * time.Second):
		t.Fatal("tshark did not start capturing")
	}
	return p
}

// goldenVerdict is natsbc trace's verdict on the capture's first INVITE
// dialog: "verdict" or "verdict: cause".
func goldenVerdict(t *testing.T, pcap string) string {
	t.Helper()
	f, err := os.Open(pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	msgs, err := capture.Read(bufio.NewReader(f))
	if err != nil && len(msgs) == 0 {
		t.Fatalf("%s: %v", pcap, err)
	}
	return diagnosis.Summary(diagnosis.Analyze(msgs))
}
