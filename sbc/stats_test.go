package sbc

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// gauges is Stats without its counters since start, for comparisons.
func gauges(st Stats) Stats {
	st.Calls, st.Ops, st.Registrar = nil, nil, nil
	return st
}

// Stats counts a call while it is up and forgets it once it ended; without
// a media anchor no call has a media session. The call counters keep it:
// started and answered by the caller's peer ("unknown" for a phone), ended
// by reason, and one set-up time.
func TestStatsCountsCalls(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	idle := b.srv.Stats()
	if gauges(idle) != (Stats{}) || len(idle.Calls.Started) != 0 || idle.Calls.Setup.Count != 0 {
		t.Fatalf("idle Stats = %+v; want zeros", idle)
	}
	tr := b.ringAndAnswer(t)
	during := b.srv.Stats()
	if gauges(during) != (Stats{ActiveCalls: 1}) {
		t.Errorf("Stats during a call without anchor = %+v; want 1 call, 0 media sessions", during)
	}
	if during.Calls.Started["unknown"] != 1 || during.Calls.Answered["unknown"] != 1 || during.Calls.Setup.Count != 1 {
		t.Errorf("call counters during the call: %+v", during.Calls)
	}
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.ACK, 1, nil, ""))
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.BYE, 0, nil, ""))
	bye := b.pbx.Expect(t, wait, "BYE on the B-leg", isRequestIn(sip.BYE, tr.pbx.callID))
	answer(t, b.pbx, bye, 200, "OK", "", nil, "")
	if _, err := b.log.waitFor("call ended", wait); err != nil {
		t.Fatalf("no `call ended` line: %v", err)
	}
	after := b.srv.Stats()
	if gauges(after) != (Stats{}) {
		t.Errorf("Stats after the call ended = %+v; want zeros", after)
	}
	if after.Calls.Ended[CallEnd{"bye-from-a", "unknown"}] != 1 || len(after.Calls.Ended) != 1 {
		t.Errorf("calls ended: %v, want one bye-from-a", after.Calls.Ended)
	}
	var inBuckets uint64
	for _, n := range after.Calls.Setup.Counts {
		inBuckets += n
	}
	if inBuckets != 1 || after.Calls.Setup.Sum <= 0 {
		t.Errorf("set-up histogram %+v, want one observation", after.Calls.Setup)
	}
}
