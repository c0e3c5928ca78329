package sbc

import (
	"encoding/json"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/cdr"
)

// recorded collects call records.
type recorded struct {
	mu   sync.Mutex
	recs []cdr.Record
}

func (r *recorded) Write(rec cdr.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
	return nil
}

// waitFor returns the records once there are n: a record is written
// after the `call ended` line, so the line alone is no sign of it.
func (r *recorded) waitFor(t *testing.T, n int) []cdr.Record {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		if recs := r.all(); len(recs) >= n || time.Now().After(deadline) {
			return recs
		}
		time.Sleep(time.Millisecond)
	}
}

func (r *recorded) all() []cdr.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]cdr.Record(nil), r.recs...)
}

// Issue 13, item 3: an answered call ended by the phone's BYE, and a call
// the PBX refused, each leave one record with both Call-IDs, the parties,
// the peers, the times and the reason; only the answered one has an
// answer time.
func TestFlowCallRecords(t *testing.T) {
	t.Parallel()
	rec := &recorded{}
	b := newFlowBedWith(t, nil, func(o *Options, _ netip.AddrPort) { o.CallRecords = rec })

	tr := b.establish(t)
	b.phone.Send(t, b.phoneInDialog(tr.phone, sip.BYE, 0, nil, ""))
	b.phone.Expect(t, wait, "200 OK for BYE", isResponse(200, sip.BYE))
	answer(t, b.pbx, b.pbx.Expect(t, wait, "BYE on the B-leg", isRequestIn(sip.BYE, tr.pbx.callID)), 200, "OK", "", nil, "")
	if _, err := b.log.waitFor("call ended", wait); err != nil {
		t.Fatal(err)
	}

	b.phone.Send(t, b.invite(newPhoneCall()))
	inv := b.pbx.Expect(t, wait, "the second INVITE", isRequest(sip.INVITE))
	answer(t, b.pbx, inv, 486, "Busy Here", "busy1", nil, "")
	b.phone.Expect(t, wait, "486 at the phone", isResponse(486, sip.INVITE))
	if _, err := b.log.waitFor("call ended", wait); err != nil {
		t.Fatal(err)
	}

	recs := rec.waitFor(t, 2)
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2: %+v", len(recs), recs)
	}
	ok, busy := recs[0], recs[1]
	if ok.ACallID != tr.phone.callID || ok.BCallID != tr.pbx.callID || ok.Reason != "bye-from-a" {
		t.Errorf("answered call's record: %+v", ok)
	}
	if ok.Answer == nil || ok.Answer.Before(ok.Start) || ok.End.Before(*ok.Answer) || ok.SetupMS < 0 {
		t.Errorf("answered call's times: start %v answer %v end %v", ok.Start, ok.Answer, ok.End)
	}
	if ok.APeer != "unknown" || ok.BPeer != "pbx" || ok.ASource != b.phone.addr().String() || ok.ANAT == "" || ok.BRouteRule == "" {
		t.Errorf("answered call's parties and routes: %+v", ok)
	}
	if ok.From == "" || ok.To == "" {
		t.Errorf("answered call without From/To: %+v", ok)
	}
	// The JSON line names the media counters as the README shows them.
	if line, err := json.Marshal(ok); err != nil || !strings.Contains(string(line), `"media":{"a_to_b":{"packets":0,"bytes":0,"rtcp":0,"dropped":0,"unsent":0,"lost":0,"jitter_ms":0},"b_to_a":`) {
		t.Errorf("record JSON %s (%v)", line, err)
	}
	if busy.Reason != "rejected" || busy.Answer != nil || busy.DurationMS != 0 || busy.ACallID == ok.ACallID {
		t.Errorf("refused call's record: %+v", busy)
	}
}
