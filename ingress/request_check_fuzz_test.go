package ingress

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// FuzzCheckRequest: CheckRequest never panics, every verdict is one of the
// answers it documents, and what it accepts has what handlers rely on.
// Seeds: testdata/fuzz/FuzzCheckRequest.
func FuzzCheckRequest(f *testing.F) {
	f.Add([]byte(ingressInvite))
	parser := sip.NewParser()
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := safeParse(parser, data)
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		rej := CheckRequest(req)
		if rej != nil {
			switch rej.Code {
			case 400, 416, 483, 505:
			default:
				t.Fatalf("unexpected code %d", rej.Code)
			}
			if rej.Reason == "" || strings.ContainsAny(rej.Reason, "\r\n") {
				t.Fatalf("bad reason %q", rej.Reason)
			}
			return
		}
		assertAcceptable(t, req)
	})
}

// assertAcceptable restates CheckRequest's promise independently.
func assertAcceptable(t *testing.T, req *sip.Request) {
	t.Helper()
	if req.Via() == nil || req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil {
		t.Fatalf("accepted without a mandatory header:\n%s", req)
	}
	if tag, _ := req.From().Params.Get("tag"); tag == "" {
		t.Fatal("accepted without From tag")
	}
	if strings.TrimSpace(string(req.CSeq().MethodName)) != string(req.Method) {
		t.Fatal("accepted with CSeq method mismatch")
	}
	if mf := req.MaxForwards(); mf != nil && *mf == 0 {
		t.Fatal("accepted with Max-Forwards 0")
	}
	for _, h := range req.Headers() {
		if strings.ContainsAny(h.Name()+h.Value(), "\r\n\x00") {
			t.Fatalf("accepted with control character in %q", h.Name())
		}
	}
}
