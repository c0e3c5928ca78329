package ingress

import (
	"net/netip"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// FuzzDatagramGuard drives the guard's decision on raw bytes. Invariants:
// no panic; a passed datagram is a keepalive or parses and passes the
// ingress checks; an answer is itself parseable SIP, a 4xx/5xx response
// with Via and CSeq, and never answers an ACK or a response; it is 513
// exactly when the datagram is over the limit (RFC 3261 §21.5.14).
// Seeds: testdata/fuzz/FuzzDatagramGuard.
func FuzzDatagramGuard(f *testing.F) {
	f.Add([]byte(ingressInvite))
	parser := sip.NewParser()
	src := netip.MustParseAddrPort("203.0.113.1:40123")
	f.Fuzz(func(t *testing.T, data []byte) {
		// Also with a small limit, so the oversize path is explored.
		for _, limit := range []int{65535, 256} {
			d := decideDatagram(parser, data, src, limit)
			switch d.action {
			case guardPass:
				assertPassable(t, parser, data)
			case guardAnswer:
				res := assertAnswer(t, data, d.reply)
				if over := len(data) > limit; over != (res.StatusCode == 513) {
					t.Fatalf("%d bytes, limit %d: answered %d", len(data), limit, res.StatusCode)
				}
			case guardSTUN:
				if !isSTUN(data) {
					t.Fatal("non-STUN handed to the STUN handler")
				}
			case guardDrop:
				if d.reason == "" {
					t.Fatal("drop without a reason")
				}
			}
		}
	})
}

func assertPassable(t *testing.T, parser *sip.Parser, data []byte) {
	t.Helper()
	if isKeepalive(data) {
		return
	}
	msg, err := safeParse(parser, data)
	if err != nil {
		t.Fatalf("passed a datagram that does not parse: %v", err)
	}
	switch m := msg.(type) {
	case *sip.Request:
		assertAcceptable(t, m)
	case *sip.Response:
		if rej := CheckResponse(m); rej != nil {
			t.Fatalf("passed a bad response: %v", rej)
		}
	default:
		t.Fatalf("passed %T", msg)
	}
}

func assertAnswer(t *testing.T, data, reply []byte) *sip.Response {
	t.Helper()
	if len(reply) > maxReplySize {
		t.Fatalf("answer of %d bytes", len(reply))
	}
	msg, err := sip.ParseMessage(reply)
	if err != nil {
		t.Fatalf("answer does not parse: %v\n%q", err, reply)
	}
	res, ok := msg.(*sip.Response)
	if !ok || res.StatusCode < 400 || res.Via() == nil || res.CSeq() == nil {
		t.Fatalf("answer is not a 4xx/5xx with Via and CSeq:\n%q", reply)
	}
	if res.CSeq().MethodName == sip.ACK {
		t.Fatalf("answered an ACK:\n%q", data)
	}
	if req, ok := scanRequest(data); !ok || req.method == "ACK" {
		t.Fatalf("answered something that is not a non-ACK request:\n%q", data)
	}
	return res
}
