//go:build linux

package natlab

import (
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// phoneWire is what one phone's capture saw.
type phoneWire struct {
	name, ip string
	pkts     []WirePacket
}

// assertCallMedia checks the RTP of a call between phones a and b in
// [from, to] (both established to the hang-up), counted on each phone's
// wire: every direction held (assertRTPHeld); what one phone sent, the
// other received, give or take the packets in flight at the window's
// edges (natsbc lost none, duplicated none); one codec, the same both
// ways at both phones. It returns that codec.
func assertCallMedia(t *testing.T, call string, a, b phoneWire, from, to time.Time) string {
	t.Helper()
	type side struct {
		phoneWire
		sent, received RTPFlow
		codec          string
	}
	sides := []*side{{phoneWire: a}, {phoneWire: b}}
	for _, s := range sides {
		s.sent, s.received = RTPAt(s.pkts, s.ip, from, to)
		var names []string
		for pt := range s.sent.Types {
			names = append(names, CodecOf(s.pkts, pt))
		}
		for pt := range s.received.Types {
			names = append(names, CodecOf(s.pkts, pt))
		}
		sort.Strings(names)
		s.codec = strings.Join(slices.Compact(names), ",")
		t.Logf("%s, %s's wire: %s sent %v", call, s.name, s.codec, s.sent)
		t.Logf("%s, %s's wire: %s received %v", call, s.name, s.codec, s.received)
		assertRTPHeld(t, call+": "+s.name+" sent", s.sent, to.Sub(from))
		assertRTPHeld(t, call+": "+s.name+" received", s.received, to.Sub(from))
	}
	if a, b := sides[0], sides[1]; a.codec != b.codec || strings.Contains(a.codec, ",") || a.codec == "" {
		t.Errorf("%s: codecs on the wire: %s %q, %s %q; want one, the same at both phones", call, a.name, a.codec, b.name, b.codec)
	}
	for i, s := range sides {
		o := sides[1-i]
		tol := 5 + s.sent.Packets/100
		if d := s.sent.Packets - o.received.Packets; d > tol || d < -tol {
			t.Errorf("%s: %s sent %d RTP packets, %s received %d (more than %d apart): natsbc lost or duplicated some",
				call, s.name, s.sent.Packets, o.name, o.received.Packets, tol)
		}
	}
	return sides[0].codec
}

// assertRTPHeld checks one direction of a phone's RTP over a call of
// length d: at least 75 % of 50 packets a second, no silence over 3 s,
// and every packet to or from natsbc's outside address (the phone talks
// to natsbc's relay, never to the other phone). The bars leave room for
// a loaded CI machine: a phone starved of CPU stalls its sending for a
// second or more (seen with linphonec at a load of 16 on 2 cores); a
// broken relay or a lost NAT mapping is silent for the rest of the call,
// and assertCallMedia's delivery check is exact.
func assertRTPHeld(t *testing.T, what string, f RTPFlow, d time.Duration) {
	t.Helper()
	if want := int(d.Seconds() * 50 * 0.75); f.Packets < want {
		t.Errorf("RTP %s: %d packets over %v, want at least %d: %v", what, f.Packets, d.Round(time.Second), want, f)
	}
	if f.MaxGap > 3*time.Second {
		t.Errorf("RTP %s: a silence of %v during the call: %v", what, f.MaxGap, f)
	}
	for peer := range f.Peers {
		if hostOf(peer) != EdgeOutIP {
			t.Errorf("RTP %s: packets with %s, want only natsbc's outside %s: %v", what, peer, EdgeOutIP, f)
		}
	}
}

// assertChallenged checks a phone's wire: a method was answered with
// status (401 with WWW-Authenticate, 407 with Proxy-Authenticate) and the
// phone then sent the method again with the matching credentials.
func assertChallenged(t *testing.T, who string, pkts []WirePacket, method string, status int) {
	t.Helper()
	sip := SIPAt(pkts)
	for i, p := range sip {
		if p.Status != status || p.CSeqMethod != method {
			continue
		}
		if (status == 401 && !p.WWWAuth) || (status == 407 && !p.ProxyAuth) {
			t.Errorf("%s received %v without its challenge header", who, p)
			return
		}
		for _, q := range sip[i+1:] {
			if q.Method == method && ((status == 401 && q.Authorization) || (status == 407 && q.ProxyAuthorization)) {
				return
			}
		}
		t.Errorf("%s received %v but sent no %s with credentials after it; its SIP:\n%s", who, p, method, listPackets(sip))
		return
	}
	t.Errorf("%s never received a %d to %s; its SIP:\n%s", who, status, method, listPackets(sip))
}

// assertOffered checks the first INVITE the phone at ip sent offers each
// codec (by its rtpmap, or its static payload type in the m= line).
func assertOffered(t *testing.T, who string, pkts []WirePacket, ip string, codecs ...string) {
	t.Helper()
	for _, p := range SIPAt(pkts) {
		if p.Method != "INVITE" || hostOf(p.Src) != ip {
			continue
		}
		offer := strings.Join(p.Codecs(), ", ")
		t.Logf("%s offers %s", who, offer)
		for _, c := range codecs {
			if !strings.Contains(offer, c) {
				t.Errorf("%s's INVITE offers no %s: m=%v a=%v", who, c, p.Media, p.MediaAttrs)
			}
		}
		return
	}
	t.Errorf("%s's wire shows no INVITE sent", who)
}

// assertPBXGotCredentials checks that the PBX received a REGISTER with
// Authorization and an INVITE with Proxy-Authorization: natsbc passed
// both on.
func assertPBXGotCredentials(t *testing.T, reg *Registrar) {
	t.Helper()
	var register, invite bool
	for _, m := range reg.Received() {
		h := strings.ToLower(m.Headers)
		register = register || strings.HasPrefix(h, "register ") && strings.Contains(h, "\nauthorization:")
		invite = invite || strings.HasPrefix(h, "invite ") && strings.Contains(h, "\nproxy-authorization:")
	}
	if !register {
		t.Errorf("the PBX never received a REGISTER with Authorization")
	}
	if !invite {
		t.Errorf("the PBX never received an INVITE with Proxy-Authorization")
	}
}

// assertPhoneCallEnded waits for the natsbc calls of calls phone-to-phone
// calls (two each: caller to PBX, PBX to callee) to end with the caller's
// BYE, checks that the only other calls natsbc ended are the challenged
// INVITEs (rejected: the 407s), and that media crossed every answered call.
func assertPhoneCallEnded(t *testing.T, n *Natsbc, calls, challenged int) {
	t.Helper()
	var byes []LogEntry
	if _, ok := n.Log.WaitFunc(10*time.Second, func(e LogEntry) bool {
		if e.matches("call ended", map[string]string{"reason": "bye-from-a"}) {
			byes = append(byes, e)
		}
		return len(byes) == 2*calls
	}); !ok {
		t.Fatalf("natsbc logged %d \"call ended\" with reason bye-from-a, want %d (caller to PBX, PBX to callee, per call)", len(byes), 2*calls)
	}
	if rejected := n.Log.Find("call ended", map[string]string{"reason": "rejected"}); len(rejected) != challenged {
		t.Errorf("natsbc ended %d calls as rejected, want %d (the INVITEs the PBX challenged)", len(rejected), challenged)
	}
	if all := n.Log.Find("call ended", nil); len(all) != 2*calls+challenged {
		t.Errorf("natsbc logged %d \"call ended\" lines, want %d", len(all), 2*calls+challenged)
	}
	for _, e := range byes {
		m, _ := e.Attrs["media"].(map[string]any)
		for _, dir := range []string{"a_to_b", "b_to_a"} {
			d, _ := m[dir].(map[string]any)
			if pk, _ := d["packets"].(float64); pk == 0 {
				t.Errorf("natsbc relayed no packet %s in call %s: %s", dir, e.Str("a_call_id"), e.Raw)
			}
		}
		t.Logf("natsbc: call %s -> %s media %v", e.Str("a_call_id"), e.Str("b_call_id"), e.Attrs["media"])
	}
}

// assertByeReceived checks the wire of the phone at ip shows a BYE
// arriving after the caller hung up (what the phone's log said: seen).
func assertByeReceived(t *testing.T, who string, pkts []WirePacket, ip string, after time.Time, seen LogEntry) {
	t.Helper()
	if !sipSeen(pkts, func(p WirePacket) bool { return p.Method == "BYE" && hostOf(p.Dst) == ip && !p.At.Before(after) }) {
		t.Errorf("%s's wire shows no BYE received after the hang-up (its log said %q)", who, seen.Raw)
	}
}

// assertPhoneBehindNAT checks natsbc's binding of user: it came from the
// NAT's public address and natsbc judged the phone NATed.
func assertPhoneBehindNAT(t *testing.T, n *Natsbc, user string) {
	t.Helper()
	b := awaitBinding(t, n, user, 5*time.Second)
	if h := URIHost("sip:" + b.Str("source")); h != NATPublicIP {
		t.Errorf("%s's binding source %q, want the NAT's %s: %s", user, b.Str("source"), NATPublicIP, b.Raw)
	}
	if got := b.Str("nat"); got != "NAT" {
		t.Errorf("%s's binding nat verdict %q, want \"NAT\": %s", user, got, b.Raw)
	}
}

// assertSIPOnlyWithNatsbc checks that every SIP message on the wire of
// the phone at ip went to or came from natsbc's outside SIP socket.
func assertSIPOnlyWithNatsbc(t *testing.T, who string, pkts []WirePacket, ip string) {
	t.Helper()
	for _, p := range SIPAt(pkts) {
		far := p.Dst
		if hostOf(p.Dst) == ip {
			far = p.Src
		}
		if far != EdgeOutIP+":5060" {
			t.Errorf("%s's wire: SIP with %s, want only natsbc's %s:5060: %v", who, far, EdgeOutIP, p)
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// AwaitPacket waits until the running capture's file holds a packet that
// matches, and returns every packet read so far. The capture hands
// packets over in blocks (libpcap's TPACKET_V3), up to its buffer timeout
// after they crossed the wire, and a block not handed over when the
// capture stops is lost: a test reads what it checks this way, without
// stopping the capture (the lab's teardown does). Each look runs tshark,
// so it looks twice a second, not more: on a loaded machine tshark
// itself is slow.
func (c *Capture) AwaitPacket(t *testing.T, timeout time.Duration, what string, match func(WirePacket) bool) []WirePacket {
	t.Helper()
	var seen []WirePacket
	deadline := time.Now().Add(timeout)
	for {
		// A block half written reads as an error: the next look has it.
		if pkts, err := readCapture(c.file); err == nil {
			seen = pkts
			if slices.ContainsFunc(pkts, match) {
				return pkts
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("capture %s: no %s within %s; SIP seen:\n%s", c.Name, what, timeout, listPackets(SIPAt(seen)))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func sipSeen(pkts []WirePacket, match func(WirePacket) bool) bool {
	for _, p := range SIPAt(pkts) {
		if match(p) {
			return true
		}
	}
	return false
}

func listPackets(pkts []WirePacket) string {
	var b strings.Builder
	for _, p := range pkts {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}
