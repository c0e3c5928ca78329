//go:build linux

package natlab

import (
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

// rtpSpec is the side's RTP endpoint: listening where its SDP says,
// sending where the SDP it got says (or back to its peer's source).
func (s mediaSide) rtpSpec(paused bool) RTPPeerSpec {
	spec := RTPPeerSpec{NS: s.ns, Listen: s.own.Media.String(), Paused: paused, Symmetric: s.symmetric}
	if !s.symmetric {
		spec.Target = s.got.Media.String()
	}
	return spec
}
