package sbc

import (
	"crypto/rand"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// Bad input gets a clear answer or none, and natsbc goes on serving.
func TestFlowGarbage(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)

	junk := make([]byte, 700)
	_, _ = rand.Read(junk)
	b.phone.Send(t, string(junk))

	b.phone.Send(t, sipMsg("INVITE sip:1000@"+b.outside.String()+" SIP/2.0", []string{
		"Via: SIP/2.0/UDP " + phoneViaHop + ";branch=z9hG4bK-nocid" + randomHex(4),
		"Max-Forwards: 70",
		"From: <sip:2000@" + privateIP + ">;tag=" + randomHex(4),
		"To: <sip:1000@" + b.outside.String() + ">",
		"CSeq: 1 INVITE",
		"Contact: <sip:2000@" + phoneViaHop + ">",
	}, ""))
	b.phone.Expect(t, wait, "400 for an INVITE without Call-ID", isResponse(400, sip.INVITE))
	if len(b.log.lines("malformed message")) == 0 {
		t.Errorf("no `malformed message` line for the INVITE without Call-ID")
	}

	b.phone.Send(t, options(b.phone, b.outside))
	b.phone.Expect(t, wait, "200 for OPTIONS after garbage", isResponse(200, sip.OPTIONS))

	b.phone.Send(t, sipMsg("BYE sip:1000@"+b.outside.String()+" SIP/2.0", []string{
		"Via: SIP/2.0/UDP " + b.phone.addr().String() + ";branch=z9hG4bK-bye" + randomHex(4) + ";rport",
		"Max-Forwards: 70",
		"From: <sip:2000@" + privateIP + ">;tag=" + randomHex(4),
		"To: <sip:1000@" + b.outside.String() + ">;tag=" + randomHex(4),
		"Call-ID: " + randomHex(8),
		"CSeq: 7 BYE",
	}, ""))
	b.phone.Expect(t, wait, "481 for a BYE of no dialog", isResponse(481, sip.BYE))

	// The guard answers in read order: an answer to the random bytes would
	// have come before the 400.
	if extra := b.phone.TakeAll(func(sip.Message) bool { return true }); len(extra) > 0 {
		t.Errorf("unexpected answers: %v", extra[0])
	}
	if n := b.srv.ActiveCalls(); n != 0 {
		t.Errorf("ActiveCalls = %d after garbage", n)
	}
}
