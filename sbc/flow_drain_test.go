package sbc

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Shutdown drains: a new INVITE gets 503, the call that is up gets
// DrainTimeout to end, then both legs get natsbc's BYE, Shutdown returns nil
// and every goroutine the Server started is gone. Not parallel: it counts
// the process's goroutines.
func TestFlowDrain(t *testing.T) {
	const drain = 200 * time.Millisecond
	b := &flowBed{log: newLogSink()}
	b.phone = newTestPeer(t, "phone", phoneIP)
	b.pbx = newTestPeer(t, "pbx", pbxIP)
	before := runtime.NumGoroutine()
	b.srv, b.outside, b.inside = startFlowServer(t, b.log, b.pbx.addr(), func(c *Config) { c.DrainTimeout = drain })
	b.phone.target, b.pbx.target = b.outside, b.inside
	b.waitServing(t)
	tr := b.establish(t)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	shutdown := make(chan error, 1)
	started := time.Now()
	go func() { shutdown <- b.srv.Shutdown(ctx) }()
	if _, err := b.log.waitFor("draining", wait); err != nil {
		t.Fatalf("Shutdown did not start draining: %v", err)
	}

	late := newPhoneCall()
	b.phone.Send(t, b.invite(late))
	refused := b.phone.Expect(t, wait, "503 for an INVITE during drain", isResponse(503, sip.INVITE))
	if refused.CallID().Value() != late.callID {
		t.Errorf("503 is for Call-ID %s, want the late INVITE's %s", refused.CallID().Value(), late.callID)
	}
	b.phone.Send(t, sipMsg("ACK sip:1000@"+b.outside.String()+" SIP/2.0", []string{
		"Via: SIP/2.0/UDP " + phoneViaHop + ";branch=" + late.branch,
		"Max-Forwards: 70",
		"From: " + refused.From().Value(),
		"To: " + refused.To().Value(),
		"Call-ID: " + late.callID,
		"CSeq: 1 ACK",
	}, ""))

	phoneBye := b.phone.Expect(t, drain+wait, "BYE after the drain", isRequestIn(sip.BYE, tr.phone.callID))
	pbxBye := b.pbx.Expect(t, wait, "BYE on the B-leg after the drain", isRequestIn(sip.BYE, tr.pbx.callID))
	if since := time.Since(started); since < drain {
		t.Errorf("BYE came %v after Shutdown, before the %v drain was over", since, drain)
	}
	for leg, bye := range map[string]sip.Message{"A": phoneBye, "B": pbxBye} {
		if r := bye.GetHeaders("Reason"); len(r) == 0 || !strings.Contains(r[0].Value(), "503") {
			t.Errorf("%s-leg BYE Reason = %v, want cause 503", leg, r)
		}
	}
	answer(t, b.phone, phoneBye, 200, "OK", "", nil, "")
	answer(t, b.pbx, pbxBye, 200, "OK", "", nil, "")

	select {
	case err := <-shutdown:
		if err != nil {
			t.Fatalf("Shutdown = %v, want nil", err)
		}
	case <-time.After(wait):
		t.Fatalf("Shutdown did not return within %v of the BYEs", wait)
	}
	if rec, err := b.log.waitFor("call ended", wait); err != nil || rec["reason"] != "shutdown" {
		t.Errorf("call ended line = %v (%v), want reason shutdown", rec, err)
	}
	if n := b.srv.ActiveCalls(); n != 0 {
		t.Errorf("ActiveCalls = %d after Shutdown", n)
	}
	waitGoroutines(t, before, 2*time.Second)
}
