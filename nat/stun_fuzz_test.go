package nat

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/pion/stun/v3"
)

// FuzzAnswerBinding: AnswerBinding never panics, AppendBindingAnswer
// appends the same answer, and whatever is answered parses as STUN,
// carries the request's transaction ID and is a Binding success or error
// response.
func FuzzAnswerBinding(f *testing.F) {
	f.Add(rfc5769Request, []byte{203, 0, 113, 7}, uint16(40123))
	f.Add(bindingRequest(f, stun.Fingerprint).Raw, []byte{0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, uint16(1))
	f.Add(bindingRequest(f, stun.RawAttribute{Type: 3, Value: []byte{0, 0, 0, 6}}).Raw, []byte{10, 0, 0, 1}, uint16(5060))
	f.Add([]byte("OPTIONS sip:x SIP/2.0\r\n"), []byte{1, 2, 3, 4}, uint16(0))
	f.Fuzz(func(t *testing.T, req, ip []byte, port uint16) {
		a, _ := netip.AddrFromSlice(ip)
		resp, ok := AnswerBinding(req, netip.AddrPortFrom(a, port))
		// Appending after existing bytes gives the same answer.
		out, appended := AppendBindingAnswer([]byte("pre"), req, netip.AddrPortFrom(a, port))
		if appended != ok || string(out[:3]) != "pre" || !bytes.Equal(out[3:], resp) {
			t.Fatalf("AppendBindingAnswer % x (%v), AnswerBinding % x (%v)", out, appended, resp, ok)
		}
		if !ok {
			if resp != nil {
				t.Fatal("ok=false with a response")
			}
			return
		}
		m := &stun.Message{Raw: resp}
		if err := m.Decode(); err != nil {
			t.Fatalf("answer does not parse: %v (% x)", err, resp)
		}
		if string(m.TransactionID[:]) != string(req[8:20]) {
			t.Fatal("answer's transaction ID differs from the request's")
		}
		if m.Type.Method != stun.MethodBinding || m.Type.Class == stun.ClassRequest || m.Type.Class == stun.ClassIndication {
			t.Fatalf("answer type %v", m.Type)
		}
		if m.Type.Class == stun.ClassSuccessResponse {
			var x stun.XORMappedAddress
			if err := x.GetFrom(m); err != nil || addrPortOf(x.IP, x.Port) != netip.AddrPortFrom(a.WithZone("").Unmap(), port) {
				t.Fatalf("XOR-MAPPED-ADDRESS %v, %v; want %v", x, err, a)
			}
		}
	})
}
