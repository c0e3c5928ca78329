package sbc

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// Start promises a serving Server (cmd logs "natsbc ready" right after it):
// an INVITE sent the moment Start returns must reach the PBX. Several
// rounds, because the window is a goroutine start-up.
func TestFlowFirstInviteAfterStart(t *testing.T) {
	t.Parallel()
	for round := 0; round < 30; round++ {
		sink := newLogSink()
		phone := newTestPeer(t, "phone", phoneIP)
		pbx := newTestPeer(t, "pbx", pbxIP)
		_, outside, _ := startFlowServer(t, sink, pbx.addr(), nil)
		b := &flowBed{log: sink, phone: phone, pbx: pbx, outside: outside}
		pc := newPhoneCall()
		phone.SendTo(t, outside, b.invite(pc))
		if _, ok := pbx.tryExpect(wait, isRequest(sip.INVITE)); !ok {
			lines := sink.lines("INVITE not sent")
			t.Fatalf("round %d: the INVITE sent right after Start never reached the PBX; natsbc said %v\n%s", round, lines, phone.dump())
		}
	}
}
