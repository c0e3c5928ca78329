package sbc

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// Stats counts a call while it is up and forgets it once it ended; without
// a media anchor no call has a media session.
func TestStatsCountsCalls(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	if got := b.srv.Stats(); got != (Stats{}) {
		t.Fatalf("idle Stats = %+v; want zeros", got)
	}
	tr := b.ringAndAnswer(t)
	if got := b.srv.Stats(); got != (Stats{ActiveCalls: 1}) {
		t.Errorf("Stats during a call without anchor = %+v; want 1 call, 0 media sessions", got)
	}
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.ACK, 1, nil, ""))
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.BYE, 0, nil, ""))
	bye := b.pbx.Expect(t, wait, "BYE on the B-leg", isRequestIn(sip.BYE, tr.pbx.callID))
	answer(t, b.pbx, bye, 200, "OK", "", nil, "")
	if _, err := b.log.waitFor("call ended", wait); err != nil {
		t.Fatalf("no `call ended` line: %v", err)
	}
	if got := b.srv.Stats(); got != (Stats{}) {
		t.Errorf("Stats after the call ended = %+v; want zeros", got)
	}
}
