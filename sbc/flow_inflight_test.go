package sbc

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// registrations.max_in_flight_per_source: a source's REGISTERs waiting for
// the PBX are capped; the one over gets 503 with Retry-After and never
// reaches the PBX; once the PBX answers one, the next passes again.
func TestFlowRegistersInFlightPerSource(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, func(c *Config) { c.Registrations.MaxInFlightPerSource = 2 })
	regs := []*phoneReg{newPhoneReg("alice"), newPhoneReg("bob"), newPhoneReg("carol")}
	var atPBX []sip.Message
	for _, r := range regs[:2] {
		b.phone.Send(t, b.register(r, 3600))
		atPBX = append(atPBX, b.pbx.Expect(t, wait, r.user+"'s REGISTER at the PBX", isRequestIn(sip.REGISTER, r.callID)))
	}
	b.phone.Send(t, b.register(regs[2], 3600))
	res := b.phone.Expect(t, wait, "503 for a third REGISTER in flight", isResponse(503, sip.REGISTER)).(*sip.Response)
	if h := res.GetHeader("Retry-After"); h == nil {
		t.Error("503 without Retry-After")
	}
	if got := b.pbx.TakeAll(isRequestIn(sip.REGISTER, regs[2].callID)); len(got) != 0 {
		t.Fatal("the REGISTER over the in-flight cap reached the PBX")
	}
	b.pbx.SendTo(t, b.inside, replyTo(atPBX[0], 401, "Unauthorized", "pbx1", []string{`WWW-Authenticate: Digest realm="example.com", nonce="n1"`}, ""))
	b.phone.Expect(t, wait, "alice's 401", isResponse(401, sip.REGISTER))
	b.phone.Send(t, b.register(regs[2], 3600))
	b.pbx.Expect(t, wait, "carol's REGISTER once one answered", isRequestIn(sip.REGISTER, regs[2].callID))
}

// limits.max_transactions: with one new request in hand (an INVITE the PBX
// has not answered), natsbc sheds the next new request with 503
// Retry-After; once the INVITE is answered, new requests are handled again.
func TestFlowOverloadShedsNewRequests(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	// Bounded once serving: the bed's start-up pings come two at a time.
	b.srv.inFlight.max.Store(1)
	pc := newPhoneCall()
	b.phone.Send(t, b.invite(pc))
	inv := b.pbx.Expect(t, wait, "the INVITE at the PBX", isRequest(sip.INVITE))
	b.phone.Send(t, options(b.phone, b.outside))
	res := b.phone.Expect(t, wait, "503 for an OPTIONS while overloaded", isResponse(503, sip.OPTIONS)).(*sip.Response)
	if h := res.GetHeader("Retry-After"); h == nil || h.Value() != "5" {
		t.Errorf("Retry-After = %v, want 5", h)
	}
	if shed := b.srv.Stats().Shed; shed != 1 {
		t.Errorf("Stats().Shed = %d, want 1", shed)
	}
	b.pbx.SendTo(t, b.inside, replyTo(inv, 486, "Busy Here", "pbx1", nil, ""))
	busy := b.phone.Expect(t, wait, "486 at the phone", isResponse(486, sip.INVITE))
	// RFC 3261 §17.1.1.3: the phone ACKs the 486 in its transaction, which
	// ends natsbc's server transaction, the request in flight.
	b.phone.Send(t, b.ackFinal(pc, busy))
	if _, err := b.log.waitFor("call ended", wait); err != nil {
		t.Fatal(err)
	}
	// The handler returns just after the call ended: a request arriving in
	// between is still shed, and its sender retries as told.
	deadline := time.Now().Add(wait)
	for {
		b.phone.Send(t, options(b.phone, b.outside))
		res := b.phone.Expect(t, wait, "an answer to an OPTIONS", isRequestResponse(sip.OPTIONS)).(*sip.Response)
		if res.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d for an OPTIONS after the INVITE ended", res.StatusCode)
		}
	}
}

// isRequestResponse matches any response to a request of method.
func isRequestResponse(method sip.RequestMethod) func(sip.Message) bool {
	return func(m sip.Message) bool {
		res, ok := m.(*sip.Response)
		return ok && res.CSeq() != nil && res.CSeq().MethodName == method
	}
}
