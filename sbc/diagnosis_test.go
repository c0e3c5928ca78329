package sbc

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/capture"
	"github.com/natsbc/natsbc/diagnosis"
)

// Issue 14, items 2 and 4: with diagnosis on, natsbc keeps a call's
// messages of both legs; a call ended for a missing ACK gets the verdict
// of `natsbc trace`'s engine in its log line, and the call's pcap, read
// back as trace reads it, gives that same verdict.
func TestFlowNoAckDiagnosed(t *testing.T) {
	t.Parallel()
	rec := diagnosis.NewRecorder(10)
	b := newFlowBedWith(t, nil, func(o *Options, _ netip.AddrPort) { o.Diagnosis = rec })
	tr := b.ringAndAnswer(t)
	bye := b.phone.Expect(t, 64*flowT1+wait, "BYE after the missing ACK", isRequestIn(sip.BYE, tr.phone.callID))
	answer(t, b.phone, bye, 200, "OK", "", nil, "")
	answer(t, b.pbx, b.pbx.Expect(t, wait, "BYE on the B-leg", isRequestIn(sip.BYE, tr.pbx.callID)), 200, "OK", "", nil, "")
	line, err := b.log.waitFor("no ACK for 2xx, ending call", wait)
	if err != nil {
		t.Fatal(err)
	}
	if line["diagnosis"] != string(diagnosis.NoACK) || line["diagnosis_cause"] != string(diagnosis.NoACKSent) {
		t.Fatalf("no-ACK line diagnosis %v / %v, want %q / %q", line["diagnosis"], line["diagnosis_cause"], diagnosis.NoACK, diagnosis.NoACKSent)
	}
	if _, err := b.log.waitFor("call ended", wait); err != nil {
		t.Fatal(err)
	}
	msgs := b.srv.CallMessages(tr.phone.callID)
	if ids := b.srv.RecordedCalls(); len(ids) != 1 || ids[0].ID != tr.phone.callID || ids[0].Reason != "no-ack" {
		t.Fatalf("recorded calls %v, want the A-leg Call-ID", ids)
	}
	var pcap bytes.Buffer
	if err := capture.Write(&pcap, msgs); err != nil {
		t.Fatal(err)
	}
	read, err := capture.Read(&pcap)
	if err != nil {
		t.Fatal(err)
	}
	verdicts := map[string]diagnosis.Report{}
	for _, r := range diagnosis.Analyze(read) {
		verdicts[r.CallID] = r
	}
	a, bLeg := verdicts[tr.phone.callID], verdicts[tr.pbx.callID]
	if a.Verdict != diagnosis.NoACK || a.Cause != diagnosis.NoACKSent || a.Rule != line["diagnosis_rule"] {
		t.Errorf("trace on the call's pcap: A-leg %q %q %q, want the log line's", a.Verdict, a.Cause, a.Rule)
	}
	if bLeg.Verdict != diagnosis.OK {
		t.Errorf("trace on the call's pcap: B-leg %q, want ok (natsbc ACKed the PBX)", bLeg.Verdict)
	}
}
