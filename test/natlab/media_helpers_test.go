//go:build linux

package natlab

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// Media scenario ports: the SDP of each side offers one of these, bound by
// the lab's RTP endpoint; sipp's own media sockets stay at 6000+.
const (
	phoneRTPPort  = 40000
	calleeRTPPort = 40010
)

// mediaKnobs are the `media:` settings a scenario changes; zero values
// keep natsbc's defaults (anchoring stays on, the default).
type mediaKnobs struct {
	Ports       string // media.ports, "MIN-MAX"
	Timeout     time.Duration
	LatchWindow time.Duration
}

// config is the `media:` section for BaseConfig.
func (k mediaKnobs) config() string {
	s := "media:\n  anchor: true\n"
	if k.Ports != "" {
		s += "  ports: " + k.Ports + "\n"
	}
	if k.Timeout > 0 {
		s += "  timeout: " + k.Timeout.String() + "\n"
	}
	if k.LatchWindow > 0 {
		s += "  latch_window: " + k.LatchWindow.String() + "\n"
	}
	return s
}

// newMediaLab is NewLab with the RTP endpoint built before any call starts
// (a cold build takes seconds; a NATed phone must latch within the window).
func newMediaLab(t *testing.T) *Lab {
	t.Helper()
	l := NewLab(t)
	l.rtpeerBinary(t)
	return l
}

// mediaPhone is a phone behind the NAT running scenario, whose SDP offers
// rtpPort; it calls the PBX through natsbc and holds for hold.
func mediaPhone(t *testing.T, l *Lab, name, scenario string, sipPort, rtpPort int, hold time.Duration) Sipp {
	s := phoneCall(scenario)
	s.Port, s.Hold = sipPort, hold
	s.Args = l.writeInjectionFile(t, name+"_rtp_port", fmt.Sprint(rtpPort))
	return s
}

// mediaCallee is the PBX answering with scenario, call n's SDP offering
// rtpPorts[n].
func mediaCallee(t *testing.T, l *Lab, name, scenario string, rtpPorts ...int) Sipp {
	s := calleeAt(scenario, PBXIP)
	var v []string
	for _, p := range rtpPorts {
		v = append(v, fmt.Sprint(p))
	}
	s.Args = l.writeInjectionFile(t, name+"_rtp_ports", v...)
	s.Calls = len(rtpPorts)
	return s
}

// mediaSide is one side of an anchored call as its sipp trace shows it.
type mediaSide struct {
	sipp     string     // the sipp run's name
	endpoint string     // its RTP endpoint's name
	own      TracedSDP  // the SDP it sent: where its RTP endpoint listens
	got      TracedSDP  // the SDP natsbc sent it: where it sends its RTP
	dialog   string     // its Call-ID
	facing   netip.Addr // natsbc's address on this side
	ns       string     // the lab namespace it runs in
	// symmetric: its endpoint answers where the other side's media comes
	// from (the self-checks' callee, which has no natsbc to latch for it).
	symmetric bool
}

// phoneSide reads the phone's offer and the answer natsbc relayed to it.
func phoneSide(t *testing.T, l *Lab, name string, p *Proc) mediaSide {
	t.Helper()
	inv := l.AwaitTraced(t, name, p, 10*time.Second, "its INVITE", First(Sent("INVITE ", "1 INVITE")))
	ok := l.AwaitTraced(t, name, p, 10*time.Second, "a 200 for its INVITE", First(Received("SIP/2.0 200", "1 INVITE")))
	return mediaSide{sipp: name, endpoint: "rtp-" + name, own: mustSDP(t, inv), got: mustSDP(t, ok),
		dialog: inv.Header("Call-ID"), facing: netip.MustParseAddr(EdgeOutIP), ns: NSLan}
}

// calleeSide reads the n-th (from 0) call the callee answered: natsbc's
// offer and the callee's answer.
func calleeSide(t *testing.T, l *Lab, name string, p *Proc, n int) mediaSide {
	t.Helper()
	inv := l.AwaitTraced(t, name, p, 10*time.Second, fmt.Sprintf("INVITE number %d", n+1), Nth(n, func(m TracedMessage) bool {
		return m.Received && strings.HasPrefix(m.StartLine(), "INVITE ") && !strings.Contains(m.Header("To"), "tag=")
	}))
	id, cseq := inv.Header("Call-ID"), inv.Header("CSeq")
	ok := l.AwaitTraced(t, name, p, 10*time.Second, "its 200 for "+id, First(func(m TracedMessage) bool {
		return !m.Received && strings.HasPrefix(m.StartLine(), "SIP/2.0 200") &&
			m.Header("Call-ID") == id && m.Header("CSeq") == cseq
	}))
	return mediaSide{sipp: name, endpoint: fmt.Sprintf("rtp-%s-%d", name, n+1), own: mustSDP(t, ok),
		got: mustSDP(t, inv), dialog: id, facing: netip.MustParseAddr(EdgeInIP), ns: NSPBX}
}

func mustSDP(t *testing.T, m TracedMessage) TracedSDP {
	t.Helper()
	s, err := ParseTracedSDP(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// assertAnchoredSDP checks that the SDP natsbc sent a side names natsbc's
// address facing that side and nothing else (o=, c=, every address), and a
// relay port of natsbc's, not the far side's own.
func assertAnchoredSDP(t *testing.T, s mediaSide, far mediaSide) {
	t.Helper()
	if err := s.got.OnlyAddress(s.facing.String()); err != nil {
		t.Errorf("%s got an SDP that is not natsbc's own: %v", s.sipp, err)
	}
	if s.got.Media.Port() == far.own.Media.Port() {
		t.Errorf("%s got m= port %d, the far side's own port: not relayed", s.sipp, s.got.Media.Port())
	}
}

// mediaPair is the RTP endpoints of one anchored call.
type mediaPair struct {
	phone, pbx *RTPPeer
}

// startMediaPair starts both sides' RTP endpoints, each sending to the
// relay address its SDP names. The PBX side waits until the phone's media
// reaches it: natsbc sends to a NATed phone only where the phone's first
// packet came from (RFC 4961), so PBX packets sent before are not relayed.
func startMediaPair(t *testing.T, l *Lab, phone, callee mediaSide) mediaPair {
	t.Helper()
	pbx := l.StartRTPPeer(t, callee.endpoint, callee.rtpSpec(true))
	ph := l.StartRTPPeer(t, phone.endpoint, phone.rtpSpec(false))
	pbx.Await(t, 5*time.Second, "the phone's first packet through natsbc", func(r RTPReport) bool { return r.Received > 0 })
	pbx.Resume(t)
	ph.Await(t, 5*time.Second, "the PBX's first packet through natsbc", func(r RTPReport) bool { return r.Received > 0 })
	return mediaPair{phone: ph, pbx: pbx}
}

// rtpSpec is the side's RTP endpoint: listening where its SDP says,
// sending where the SDP it got says (or back to its peer's source).
func (s mediaSide) rtpSpec(paused bool) RTPPeerSpec {
	spec := RTPPeerSpec{NS: s.ns, Listen: s.own.Media.String(), Paused: paused, Symmetric: s.symmetric}
	if !s.symmetric {
		spec.Target = s.got.Media.String()
	}
	return spec
}

// awaitBothReceiveAfter waits until both endpoints received packets after since.
func (m mediaPair) awaitBothReceiveAfter(t *testing.T, since time.Time, what string) {
	t.Helper()
	for _, p := range []*RTPPeer{m.phone, m.pbx} {
		base, later := p.AwaitReceivedAfter(t, since, 5*time.Second)
		t.Logf("%s: %s receives (%d -> %d packets)", what, p.Name, base.Received, later.Received)
	}
}

// pauseAndCollect stops both endpoints' sending and returns their reports
// once every packet sent has arrived, or after a second of waiting for
// the lost ones.
func (m mediaPair) pauseAndCollect(t *testing.T) (phone, pbx RTPReport) {
	t.Helper()
	paused := time.Now()
	m.phone.Pause(t)
	m.pbx.Pause(t)
	silent := func(r RTPReport) bool { return !r.Sending && r.Time().After(paused) }
	phoneSent := m.phone.Await(t, 2*time.Second, "a report after the pause", silent)
	pbxSent := m.pbx.Await(t, 2*time.Second, "a report after the pause", silent)
	return m.phone.settled(pbxSent.Sent), m.pbx.settled(phoneSent.Sent)
}

// assertDelivered checks that at least 95 % of what from sent reached to.
func assertDelivered(t *testing.T, direction string, sent, got RTPReport) {
	t.Helper()
	ratio := float64(got.Received) / float64(max(sent.Sent, 1))
	t.Logf("%s: sent %d, received %d (%.1f %%), %d sequence gaps (%d missing, %d late)",
		direction, sent.Sent, got.Received, 100*ratio, got.SeqGaps, got.SeqMissing, got.SeqLate)
	if sent.Sent < 100 || ratio < 0.95 {
		t.Errorf("%s: %d of %d packets arrived (%.1f %%), want at least 95 %% of at least 100", direction,
			got.Received, sent.Sent, 100*ratio)
	}
}

// assertOnlyFrom checks that every packet an endpoint received came from
// want (natsbc's relay port facing it) and none was injected.
func assertOnlyFrom(t *testing.T, who string, r RTPReport, want netip.AddrPort) {
	t.Helper()
	for src, n := range r.Sources {
		if src != want.String() {
			t.Errorf("%s received %d packets from %s, want only natsbc's %s (sources %v)", who, n, src, want, r.Sources)
		}
	}
	if r.Injected != 0 {
		t.Errorf("%s received %d injected packets", who, r.Injected)
	}
}

// flowStats is one direction of the media stats natsbc logs with "call ended".
type flowStats struct {
	Packets uint64  `json:"packets"`
	Bytes   uint64  `json:"bytes"`
	RTCP    uint64  `json:"rtcp"`
	Dropped uint64  `json:"dropped"`
	Lost    uint64  `json:"lost"`
	Jitter  float64 `json:"jitter_ms"`
}

// endedMedia reads the media stats of a "call ended" line.
func endedMedia(t *testing.T, e LogEntry) (aToB, bToA flowStats) {
	t.Helper()
	var line struct {
		Media struct {
			AtoB flowStats `json:"a_to_b"`
			BtoA flowStats `json:"b_to_a"`
		} `json:"media"`
	}
	if err := json.Unmarshal([]byte(e.Raw), &line); err != nil || !strings.Contains(e.Raw, `"a_to_b"`) {
		t.Fatalf("\"call ended\" without media stats (%v): %s", err, e.Raw)
	}
	return line.Media.AtoB, line.Media.BtoA
}

// settled is the report once the endpoint has received want packets, or
// its last one after a second of waiting for the rest.
func (p *RTPPeer) settled(want uint64) RTPReport {
	if r, ok := p.WaitReport(time.Second, func(r RTPReport) bool { return r.Received >= want }); ok {
		return r
	}
	return p.Last()
}
