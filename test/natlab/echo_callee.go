//go:build linux

package natlab

import (
	"strconv"
	"testing"
	"time"
)

// The echo callee of the secure-media scenarios: sipp on the PBX side at
// CalleeIP answers "echo" (scenarios/echo_callee.xml) and sends every RTP
// packet that reaches its media port back where it came from (-rtp_echo).
// The PBX (Kamailio registrar) reaches it through a static binding.
const (
	echoUser      = "echo"
	echoMediaPort = 7078
)

// StartEchoCallee runs the echo callee, waits for its SIP and media ports,
// and gives the registrar its binding.
func (l *Lab) StartEchoCallee(t *testing.T, reg *Registrar) *Proc {
	t.Helper()
	p := l.StartSipp(t, "echo", Sipp{Scenario: "echo_callee.xml", NS: NSPBX, IP: CalleeIP, Port: 5060,
		Args: []string{"-rtp_echo", "-mi", CalleeIP, "-mp", strconv.Itoa(echoMediaPort)}})
	l.WaitListening(t, NSPBX, "udp", CalleeIP, echoMediaPort, p)
	reg.AddContact(t, echoUser, "sip:"+echoUser+"@"+CalleeIP+":5060")
	return p
}

// assertEchoedRTP checks the plain RTP at the echo callee, counted on the
// PBX side's wire in [from, to]: at least min packets each way, every one
// dissected as RTP with payload type 0 (the PCMU the echo answers), on the
// echo's media port and exchanged only with the host at far (natsbc's inside address; the
// self-check's caller stands there). It returns both flows.
func assertEchoedRTP(t *testing.T, pkts []WirePacket, far string, from, to time.Time, min int) (toEcho, fromEcho RTPFlow) {
	t.Helper()
	echoAddr := CalleeIP + ":" + strconv.Itoa(echoMediaPort)
	for _, p := range pkts {
		if p.RTPType >= 0 && !p.At.Before(from) && !p.At.After(to) &&
			(hostOf(p.Src) == CalleeIP && p.Src != echoAddr || hostOf(p.Dst) == CalleeIP && p.Dst != echoAddr) {
			t.Errorf("RTP at the echo callee off its media port %s: %v", echoAddr, p)
			break
		}
	}
	fromEcho, toEcho = RTPAt(pkts, CalleeIP, from, to)
	t.Logf("plain RTP at the echo callee (%v): received %v", to.Sub(from).Round(time.Millisecond), toEcho)
	t.Logf("plain RTP at the echo callee: echoed %v", fromEcho)
	for _, f := range []struct {
		what string
		flow RTPFlow
	}{{"from " + far + " to the echo", toEcho}, {"from the echo to " + far, fromEcho}} {
		if f.flow.Packets < min {
			t.Errorf("plain RTP %s on the PBX side's wire: %d packets, want at least %d", f.what, f.flow.Packets, min)
		}
		for pt, n := range f.flow.Types {
			if pt != 0 {
				t.Errorf("plain RTP %s: %d packets of payload type %d, want only 0 (PCMU, what the echo answered)", f.what, n, pt)
			}
		}
		for peer := range f.flow.Peers {
			if hostOf(peer) != far {
				t.Errorf("plain RTP %s: packets with %s, want only %s", f.what, peer, far)
			}
		}
	}
	return toEcho, fromEcho
}
