package sbc

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/policy"
)

// Issue 13, items 4 and 5: a reload sends new calls by the new routes and
// limits while a call up keeps its legs; what only a restart applies is
// named and keeps its running value. The operator sees the call and hangs
// it up: a BYE on both legs.
func TestFlowReloadAndOperatorHangup(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	tr := b.establish(t)

	calls := b.srv.Calls()
	if len(calls) != 1 || calls[0].ACallID != tr.phone.callID || calls[0].BCallID != tr.pbx.callID ||
		calls[0].Answer == nil || calls[0].BPeer != "pbx" || !calls[0].End.IsZero() {
		t.Fatalf("Calls() = %+v, want the answered call to pbx", calls)
	}
	if c, ok := b.srv.Call(tr.pbx.callID); !ok || c.ACallID != tr.phone.callID {
		t.Fatalf("Call(B-leg Call-ID) = %+v, %v", c, ok)
	}

	second := newTestPeer(t, "second", pbxIP)
	pol, err := policy.New(policy.Config{Peers: []policy.Peer{{
		Name: "pbx2", Networks: []netip.Prefix{netip.PrefixFrom(second.addr().Addr(), 32)},
		Address: second.addr().String(), Role: policy.RolePBX,
	}}, Routes: []policy.Route{{From: "pbx2", To: policy.ToRequestURI}, {From: policy.Any, To: "pbx2"}}})
	if err != nil {
		t.Fatal(err)
	}
	next := *b.srv.conf()
	next.MaxCalls = 2
	next.T1 = 2 * next.T1
	restart := b.srv.Reload(Reload{Config: next, Policy: pol})
	if !slices.Equal(restart, []string{"sip.timers"}) {
		t.Errorf("restart needed for %v, want [sip.timers]", restart)
	}
	if b.srv.conf().T1 != flowT1 || b.srv.conf().MaxCalls != 2 {
		t.Errorf("after reload T1 %v (want the running %v), max calls %d (want 2)", b.srv.conf().T1, flowT1, b.srv.conf().MaxCalls)
	}

	b.phone.Send(t, b.invite(newPhoneCall()))
	inv := second.Expect(t, wait, "the new call's INVITE at the reloaded PBX", isRequest(sip.INVITE))
	second.SendTo(t, parseAddrPort(inv.Source()), replyTo(inv, 180, "Ringing", "p2", nil, ""))
	b.phone.Expect(t, wait, "180 of the new call", isResponse(180, sip.INVITE))
	b.phone.Send(t, b.invite(newPhoneCall()))
	b.phone.Expect(t, wait, "503 over the reloaded limits.max_calls", isResponse(503, sip.INVITE))
	if err := b.srv.Hangup(callID(inv.(*sip.Request))); !errors.Is(err, ErrNotAnswered) {
		t.Errorf("Hangup of a ringing call: %v, want ErrNotAnswered", err)
	}
	if err := b.srv.Hangup("no-such-call"); !errors.Is(err, ErrNoCall) {
		t.Errorf("Hangup of an unknown call: %v, want ErrNoCall", err)
	}

	done := make(chan error, 1)
	go func() { done <- b.srv.Hangup(tr.phone.callID) }()
	aBye := b.phone.Expect(t, wait, "BYE on the A-leg", isRequestIn(sip.BYE, tr.phone.callID))
	b.phone.Send(t, replyTo(aBye, 200, "OK", "", nil, ""))
	bBye := b.pbx.Expect(t, wait, "BYE on the B-leg at the PBX the call was set up with", isRequestIn(sip.BYE, tr.pbx.callID))
	b.pbx.SendTo(t, parseAddrPort(bBye.Source()), replyTo(bBye, 200, "OK", "", nil, ""))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(wait):
		t.Fatal("Hangup did not return")
	}
	if r, _ := aBye.(*sip.Request); r.GetHeader("Reason") == nil {
		t.Errorf("the operator's BYE carries no Reason:\n%s", aBye)
	}
	if _, ok := b.srv.Call(tr.phone.callID); ok {
		t.Error("the hung-up call is still listed")
	}
}
