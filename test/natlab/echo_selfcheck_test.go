//go:build linux

package natlab

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// TestLabEchoCallee proves the PBX side of the secure-media scenarios
// without natsbc: a plain UDP sipp caller standing at natsbc's inside
// address calls "echo" at the Kamailio PBX, which finds the echo callee
// through its static binding; the caller's RTP endpoint sends to the
// echo's media port and gets every packet back, and tshark on the PBX
// side's wire counts the plain RTP both ways, as the scenarios do with
// natsbc in between.
func TestLabEchoCallee(t *testing.T) {
	t.Parallel()
	l := newMediaLab(t)
	reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{})
	echo := l.StartEchoCallee(t, reg)
	wire := l.StartCapture(t, NSPBX, "pbx-wire")
	const talk = 3 * time.Second
	caller := l.StartSipp(t, "caller", Sipp{Scenario: "media_phone_call.xml", NS: NSEdge, IP: EdgeInIP, Port: 5060,
		// The call outlives the talk: the echo ends with it.
		Remote: PBXIP + ":5060", Service: echoUser, Hold: talk + 5*time.Second,
		Args: l.writeInjectionFile(t, "caller_rtp_port", fmt.Sprint(phoneRTPPort))})
	rtp := l.StartRTPPeer(t, "caller-rtp", RTPPeerSpec{NS: NSEdge, Listen: EdgeInIP + ":" + strconv.Itoa(phoneRTPPort),
		Target: CalleeIP + ":" + strconv.Itoa(echoMediaPort)})
	start := time.Now()
	rtp.Await(t, 10*time.Second, "the echo of its RTP", func(r RTPReport) bool { return r.Received > 0 })
	time.Sleep(talk) // a short talk: a duration, not a wait for an event
	end := time.Now()
	// A report of the moment the talk ended: all but the packets in
	// flight came back (the echo lives on with the call).
	rep := rtp.Await(t, 10*time.Second, "a report after the talk", func(r RTPReport) bool { return r.Time().After(end) })
	pkts := wire.AwaitPacket(t, 10*time.Second, "RTP after the talk", func(p WirePacket) bool {
		return p.RTPType >= 0 && p.At.After(end)
	})
	MustSucceed(t, caller, 30*time.Second)
	MustSucceed(t, echo, 10*time.Second)

	t.Logf("caller's RTP endpoint after the talk: sent %d, received %d (sources %v)", rep.Sent, rep.Received, rep.Sources)
	if lost := int(rep.Sent) - int(rep.Received); lost < 0 || lost > 5 {
		t.Errorf("the echo returned %d of %d packets, want all but the few in flight", rep.Received, rep.Sent)
	}
	want := CalleeIP + ":" + strconv.Itoa(echoMediaPort)
	if len(rep.Sources) != 1 || rep.Sources[want] == 0 {
		t.Errorf("the echo came from %v, want only %s", rep.Sources, want)
	}
	assertEchoedRTP(t, pkts, EdgeInIP, start, end, int(talk.Seconds()*50*0.75))
}
