//go:build linux

package natlab

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// sendFailures are natsbc's lines for a message it could not send, and the
// diagnosis that must not appear when it did send.
var sendFailures = []string{"request not sent", "response not sent", "ACK not sent", "2xx not sent, ending call", "no ACK for 2xx, ending call"}

// TestLargeMessagesOverUDPThroughNAT (issue 10, item 2): the phone behind
// the port-randomising NAT offers audio and video in a 2 KB INVITE over
// UDP; the callee (sipp, UDP only) answers with a 2 KB 200. natsbc tries
// TCP towards the callee (RFC 3261 §18.1.1), is refused, and sends the
// INVITE as one UDP datagram; the 200 goes back to the phone as one
// datagram through the NAT (IP fragments both ways). Both scenarios check
// the last SDP line of what they got, the callee receives natsbc's ACK
// and the BYE, natsbc gets the phone's ACK.
func TestLargeMessagesOverUDPThroughNAT(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer)
	callee := l.StartSipp(t, "callee", calleeAt("callee_large.xml", PBXIP))
	s := phoneCall("phone_large.xml")
	s.Hold = 2 * time.Second
	s.Timeout = 60 * time.Second
	phone := l.StartSipp(t, "phone", s)

	MustSucceed(t, phone, 90*time.Second)
	MustSucceed(t, callee, 15*time.Second)
	// Whatever failed, natsbc's own account of it comes first.
	for _, msg := range sendFailures {
		for _, e := range n.Log.Find(msg, nil) {
			t.Errorf("natsbc: %s", e.Raw)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	awaitEnded(t, n, "bye-from-a")
	assertOneCallEnded(t, n)
	assertNATed(t, l, "udp")
	assertTracedSize(t, l, "callee", "INVITE ", 2000)
	assertTracedSize(t, l, "phone", "SIP/2.0 200", 2000)

	fb, ok := n.Log.Wait(0, "large request sent as one UDP datagram: next hop refuses TCP", nil)
	switch {
	case !ok:
		t.Errorf("natsbc did not log that the UDP-only callee refused TCP for the large INVITE")
	case fb.Str("leg") != "b" || fb.Str("method") != "INVITE" || fb.Str("to") != PBXIP+":5060":
		t.Errorf("fallback line %s: want leg b, INVITE, to %s:5060", fb.Raw, PBXIP)
	default:
		if b, _ := strconv.Atoi(fb.Str("bytes")); b <= 1300 {
			t.Errorf("fallback line says %q bytes, want > 1300: %s", fb.Str("bytes"), fb.Raw)
		}
	}
	n.AssertNoCrash(t)
}

// assertTracedSize checks that the first message starting with start that
// the sipp run called name received is larger than min bytes.
func assertTracedSize(t *testing.T, l *Lab, name, start string, min int) {
	t.Helper()
	msgs, err := l.ReadSippTrace(name)
	if err != nil {
		t.Errorf("%s trace: %v", name, err)
		return
	}
	m, ok := FirstReceived(msgs, start)
	if !ok {
		t.Errorf("%s received no %q", name, start)
		return
	}
	if len(m.Text) <= min {
		t.Errorf("%s's %q is %d bytes, want > %d (the test's point)", name, m.StartLine(), len(m.Text), min)
	}
}

// TestLargeInviteOverTCPToProxy (issue 10, item 2): the same 2 KB call,
// routed to the record-routing Kamailio, which also listens on TCP. natsbc
// sends the large INVITE over TCP (RFC 3261 §18.1.1: its Via says TCP);
// Kamailio relays it over UDP to the callee, and the 2 KB 200 comes back
// on natsbc's connection and reaches the phone over UDP through the NAT.
// The ACK and the BYE (small) follow the route set over UDP.
func TestLargeInviteOverTCPToProxy(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, BaseConfig+`peers:
  - name: kam
    networks: [`+ProxyIP+`/32]
    address: `+ProxyIP+`:5060
    role: proxy
routes:
  - from: "*"
    to: kam
`)
	callee := l.StartSipp(t, "callee", calleeAt("callee_large.xml", CalleeIP))
	l.startKamailioTCP(t, ProxyIP, 5060, CalleeIP+":5060")
	s := phoneCall("phone_large.xml")
	s.Hold = 2 * time.Second
	s.Timeout = 60 * time.Second
	phone := l.StartSipp(t, "phone", s)

	MustSucceed(t, phone, 90*time.Second)
	MustSucceed(t, callee, 15*time.Second)
	for _, msg := range sendFailures {
		for _, e := range n.Log.Find(msg, nil) {
			t.Errorf("natsbc: %s", e.Raw)
		}
	}
	if e, ok := n.Log.Wait(0, "large request sent as one UDP datagram: next hop refuses TCP", nil); ok {
		t.Errorf("natsbc fell back to UDP although Kamailio listens on TCP: %s", e.Raw)
	}
	if t.Failed() {
		t.FailNow()
	}
	awaitEnded(t, n, "bye-from-a")
	assertOneCallEnded(t, n)
	if e, ok := n.Log.Wait(0, "large request sent over TCP", nil); !ok || e.Str("leg") != "b" || e.Str("to") != ProxyIP+":5060" {
		t.Errorf("no `large request sent over TCP` line for leg b to %s:5060 (got %q)", ProxyIP, e.Raw)
	}
	assertTracedSize(t, l, "callee", "INVITE ", 2000)
	assertTracedSize(t, l, "phone", "SIP/2.0 200", 2000)
	// The callee's INVITE carries Kamailio's Via and, below it, natsbc's:
	// the hop natsbc sent over is TCP.
	msgs, err := l.ReadSippTrace("callee")
	if err != nil {
		t.Fatalf("callee trace: %v", err)
	}
	inv, _ := FirstReceived(msgs, "INVITE ")
	if vias := headerValues(inv, "via"); len(vias) < 2 || !strings.HasPrefix(vias[1], "SIP/2.0/TCP "+EdgeInIP+":5060") {
		t.Errorf("callee's INVITE Vias %q: want natsbc's SIP/2.0/TCP %s:5060 below Kamailio's", vias, EdgeInIP)
	}
	n.AssertNoCrash(t)
}

// startKamailioTCP is StartKamailio with TCP enabled beside UDP on the same
// address: the template's `disable_tcp=yes` line is replaced like a
// placeholder.
func (l *Lab) startKamailioTCP(t *testing.T, ip string, port int, callee string) *Proc {
	t.Helper()
	p := l.runKamailio(t, "kamailio", "kamailio-proxy.cfg", ip, port, "__CALLEE__", callee,
		"disable_tcp=yes", "disable_tcp=no\nlisten=tcp:"+ip+":"+strconv.Itoa(port))
	l.WaitListening(t, NSPBX, "tcp", ip, port, p)
	return p
}

// headerValues returns every value of header name (Via lines may also hold
// several comma-separated values; sipp and Kamailio write one per line).
func headerValues(m TracedMessage, name string) []string {
	var out []string
	for _, line := range strings.Split(m.Text, "\n")[1:] {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// TestLargeRegisterOverTCPToRegistrar (issue 10, item 2): a phone behind
// the NAT registers 25 Contacts over UDP; natsbc's relay of that REGISTER
// is over 2 KB, so it goes to the Kamailio registrar (UDP and TCP) over TCP
// (RFC 3261 §18.1.1: its Via says TCP), the registrar's 200 comes back on
// that connection, and the phone gets it over UDP through the NAT. The
// registrar stores natsbc's token Contacts, on natsbc's UDP address.
func TestLargeRegisterOverTCPToRegistrar(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{})
	n := l.StartNatsbc(t, BaseConfig+registrarPeer)
	phone := l.StartSipp(t, "phone", Sipp{Scenario: "phone_register_large.xml", OOC: "phone_answers.xml",
		NS: NSLan, IP: PhoneIP, Port: 5060, Remote: EdgeOutIP + ":5060", Service: "alice",
		Hold: 5 * time.Second, Keys: map[string]string{"expires": "3600"}})

	awaitBinding(t, n, "alice", 10*time.Second)
	for _, msg := range sendFailures {
		for _, e := range n.Log.Find(msg, nil) {
			t.Errorf("natsbc: %s", e.Raw)
		}
	}
	if e, ok := n.Log.Wait(0, "large request sent as one UDP datagram: next hop refuses TCP", nil); ok {
		t.Errorf("natsbc fell back to UDP although the registrar listens on TCP: %s", e.Raw)
	}
	e, ok := n.Log.Wait(0, "large request sent over TCP", nil)
	if !ok || e.Str("leg") != "registrar" || e.Str("method") != "REGISTER" || e.Str("to") != PBXIP+":5060" {
		t.Errorf("no `large request sent over TCP` line for the REGISTER to %s:5060 (got %q)", PBXIP, e.Raw)
	} else if b, _ := strconv.Atoi(e.Str("bytes")); b <= 2000 {
		t.Errorf("the REGISTER was %q bytes, want > 2000 (the test's point)", e.Str("bytes"))
	}
	contacts := reg.AwaitContacts(t, "alice", 5*time.Second)
	if len(contacts) != 25 {
		t.Errorf("registrar holds %d contacts of alice, want 25: %q", len(contacts), contacts)
	}
	assertPublicContacts(t, contacts)
	for _, c := range contacts {
		if strings.Contains(c, "transport=") {
			t.Errorf("registrar holds %q: the token Contact must keep natsbc's UDP address", c)
		}
	}
	overTCP := false
	for _, m := range reg.Received() {
		if strings.HasPrefix(m.Headers, "REGISTER ") && strings.Contains(m.Headers, "\nVia: SIP/2.0/TCP "+EdgeInIP+":5060") {
			overTCP = true
		}
	}
	if !overTCP {
		t.Errorf("the registrar got no REGISTER with natsbc's SIP/2.0/TCP %s:5060 Via", EdgeInIP)
	}
	// sipp's trace is complete once it has ended.
	MustSucceed(t, phone, 30*time.Second)
	assertTracedSize(t, l, "phone", "SIP/2.0 200", 1300)
	n.AssertNoCrash(t)
}
