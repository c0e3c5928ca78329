package nat

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/pion/stun/v3"
)

// rfc5769Request is the sample request of RFC 5769 §2.1 (SOFTWARE,
// PRIORITY, ICE-CONTROLLED, USERNAME, MESSAGE-INTEGRITY, FINGERPRINT).
var rfc5769Request = []byte("\x00\x01\x00\x58\x21\x12\xa4\x42" +
	"\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae" +
	"\x80\x22\x00\x10STUN test client" +
	"\x00\x24\x00\x04\x6e\x00\x01\xff" +
	"\x80\x29\x00\x08\x93\x2f\xf9\xb1\x51\x26\x3b\x36" +
	"\x00\x06\x00\x09evtj:h6vY   " +
	"\x00\x08\x00\x14\x9a\xea\xa7\x0c\xbf\xd8\xcb\x56\x78\x1e\xf2\xb5" +
	"\xb2\xd3\xf2\x49\xc1\xb5\x71\xa2" +
	"\x80\x28\x00\x04\xe5\x7a\x3b\xcf")

func bindingRequest(t testing.TB, setters ...stun.Setter) *stun.Message {
	t.Helper()
	m, err := stun.Build(append([]stun.Setter{stun.TransactionID, stun.BindingRequest}, setters...)...)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	return m
}

func decodeResponse(t *testing.T, resp []byte) *stun.Message {
	t.Helper()
	m := &stun.Message{Raw: append([]byte(nil), resp...)}
	if err := m.Decode(); err != nil {
		t.Fatalf("response does not parse as STUN: %v", err)
	}
	return m
}

func TestAnswerBindingSuccess(t *testing.T) {
	cases := []struct {
		name        string
		from        netip.AddrPort
		want        netip.AddrPort
		fingerprint bool
	}{
		{"ipv4", netip.MustParseAddrPort("203.0.113.7:40123"), netip.MustParseAddrPort("203.0.113.7:40123"), false},
		{"ipv4 with fingerprint", netip.MustParseAddrPort("198.51.100.2:5060"), netip.MustParseAddrPort("198.51.100.2:5060"), true},
		{"ipv6", netip.MustParseAddrPort("[2001:db8::1]:1024"), netip.MustParseAddrPort("[2001:db8::1]:1024"), true},
		// A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; the
		// client must get its IPv4 address back.
		{"ipv4-mapped ipv6", netip.MustParseAddrPort("[::ffff:192.0.2.9]:7"), netip.MustParseAddrPort("192.0.2.9:7"), false},
		{"zone dropped", netip.MustParseAddrPort("[fe80::1%eth0]:9"), netip.MustParseAddrPort("[fe80::1]:9"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var setters []stun.Setter
			if c.fingerprint {
				setters = append(setters, stun.Fingerprint)
			}
			req := bindingRequest(t, setters...)
			resp, ok := AnswerBinding(req.Raw, c.from)
			if !ok {
				t.Fatal("well-formed Binding request not answered")
			}
			m := decodeResponse(t, resp)
			if m.Type != stun.BindingSuccess {
				t.Fatalf("type %v, want Binding success", m.Type)
			}
			if m.TransactionID != req.TransactionID {
				t.Fatal("transaction ID not echoed")
			}
			var xor stun.XORMappedAddress
			if err := xor.GetFrom(m); err != nil {
				t.Fatalf("XOR-MAPPED-ADDRESS: %v", err)
			}
			if got := addrPortOf(xor.IP, xor.Port); got != c.want {
				t.Errorf("XOR-MAPPED-ADDRESS %v, want %v", got, c.want)
			}
			var mapped stun.MappedAddress
			if err := mapped.GetFrom(m); err != nil {
				t.Fatalf("MAPPED-ADDRESS: %v", err)
			}
			if got := addrPortOf(mapped.IP, mapped.Port); got != c.want {
				t.Errorf("MAPPED-ADDRESS %v, want %v", got, c.want)
			}
			var sw stun.Software
			if err := sw.GetFrom(m); err != nil || sw.String() != "natsbc" {
				t.Errorf("SOFTWARE %q, %v", sw.String(), err)
			}
			_, hasFP := m.Attributes.Get(stun.AttrFingerprint)
			if hasFP != c.fingerprint {
				t.Errorf("FINGERPRINT present=%v, request had one=%v", hasFP, c.fingerprint)
			}
			if hasFP {
				if err := stun.Fingerprint.Check(m); err != nil {
					t.Errorf("FINGERPRINT wrong: %v", err)
				}
			}
		})
	}
}

func addrPortOf(ip net.IP, port int) netip.AddrPort {
	a, _ := netip.AddrFromSlice(ip)
	return netip.AddrPortFrom(a.Unmap(), uint16(port))
}

// The RFC 5769 §2.1 request is an ICE check with credentials; §2.2 gives
// the XOR-MAPPED-ADDRESS bytes for 192.0.2.1:32853 and that transaction.
func TestAnswerBindingRFC5769Vectors(t *testing.T) {
	resp, ok := AnswerBinding(rfc5769Request, netip.MustParseAddrPort("192.0.2.1:32853"))
	if !ok {
		t.Fatal("RFC 5769 sample request not answered")
	}
	wantXOR := []byte{0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43}
	if !bytes.Equal(resp[20:32], wantXOR) {
		t.Errorf("XOR-MAPPED-ADDRESS % x, want % x (RFC 5769 §2.2)", resp[20:32], wantXOR)
	}
	if m := decodeResponse(t, resp); stun.Fingerprint.Check(m) != nil {
		t.Error("request had FINGERPRINT, response's is missing or wrong")
	}
}

// RFC 5389 §7.3.1: unknown comprehension-required attributes get a 420
// that lists them; unknown comprehension-optional ones are ignored.
func TestAnswerBindingUnknownAttributes(t *testing.T) {
	from := netip.MustParseAddrPort("203.0.113.7:40123")
	changeRequest := stun.RawAttribute{Type: 0x0003, Value: []byte{0, 0, 0, 6}} // RFC 5780
	other := stun.RawAttribute{Type: 0x7ff0, Value: []byte{1}}
	optional := stun.RawAttribute{Type: 0xc001, Value: []byte{1, 2, 3}}

	req := bindingRequest(t, changeRequest, optional, other, stun.Fingerprint)
	resp, ok := AnswerBinding(req.Raw, from)
	if !ok {
		t.Fatal("request with unknown attributes must be answered with 420")
	}
	m := decodeResponse(t, resp)
	if m.Type != stun.NewType(stun.MethodBinding, stun.ClassErrorResponse) || m.TransactionID != req.TransactionID {
		t.Fatalf("type %v: want Binding error response with the request's transaction", m.Type)
	}
	var ec stun.ErrorCodeAttribute
	if err := ec.GetFrom(m); err != nil || ec.Code != stun.CodeUnknownAttribute {
		t.Fatalf("ERROR-CODE %v, %v; want 420", ec.Code, err)
	}
	var ua stun.UnknownAttributes
	if err := ua.GetFrom(m); err != nil {
		t.Fatalf("UNKNOWN-ATTRIBUTES: %v", err)
	}
	if len(ua) != 2 || ua[0] != 0x0003 || ua[1] != 0x7ff0 {
		t.Errorf("UNKNOWN-ATTRIBUTES %v, want [0x0003 0x7ff0]", ua)
	}
	if _, ok := m.Attributes.Get(stun.AttrXORMappedAddress); ok {
		t.Error("420 must not carry a mapped address")
	}
	if stun.Fingerprint.Check(m) != nil {
		t.Error("FINGERPRINT missing or wrong on the 420")
	}

	// Comprehension-optional alone, or unknown after MESSAGE-INTEGRITY
	// (§15.4: ignored), is answered normally.
	for name, req := range map[string]*stun.Message{
		"optional only":         bindingRequest(t, optional),
		"after integrity":       bindingRequest(t, stun.NewShortTermIntegrity("pw"), changeRequest),
		"odd count padded 420":  bindingRequest(t, changeRequest),
		"credentials and check": bindingRequest(t, stun.NewUsername("a:b"), stun.NewShortTermIntegrity("pw"), stun.Fingerprint),
	} {
		resp, ok := AnswerBinding(req.Raw, from)
		if !ok {
			t.Errorf("%s: not answered", name)
			continue
		}
		m := decodeResponse(t, resp)
		wantErr := name == "odd count padded 420"
		if isErr := m.Type.Class == stun.ClassErrorResponse; isErr != wantErr {
			t.Errorf("%s: error response=%v, want %v", name, isErr, wantErr)
		}
	}
}

func TestAnswerBindingDropsWhatIsNotABindingRequest(t *testing.T) {
	from := netip.MustParseAddrPort("203.0.113.7:40123")
	valid := bindingRequest(t, stun.NewSoftware("x"), stun.Fingerprint).Raw
	mutate := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), valid...))
	}
	withType := func(typ uint16) []byte {
		return mutate(func(b []byte) []byte { binary.BigEndian.PutUint16(b, typ); return b })
	}
	noFP := bindingRequest(t, stun.NewSoftware("x")).Raw
	cases := map[string][]byte{
		"empty":              nil,
		"short header":       valid[:19],
		"SIP":                []byte("OPTIONS sip:a@b SIP/2.0\r\n\r\n"),
		"RTP":                append([]byte{0x80, 0x00, 0x00, 0x01}, make([]byte, 28)...),
		"CRLF keepalive":     []byte("\r\n\r\n"),
		"success response":   withType(0x0101),
		"binding indication": withType(0x0011),
		"allocate request":   withType(0x0003),
		"top bits set":       withType(0xc001),
		"no magic cookie": mutate(func(b []byte) []byte {
			b[4] ^= 0xff
			return b
		}),
		"truncated":       valid[:len(valid)-4],
		"trailing bytes":  append(append([]byte(nil), noFP...), 0, 0, 0, 0),
		"length not x4":   mutate(func(b []byte) []byte { binary.BigEndian.PutUint16(b[2:], uint16(len(b)-21)); return b[:len(b)-1] }),
		"bad fingerprint": mutate(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }),
		"attribute overruns message": mutate(func(b []byte) []byte {
			binary.BigEndian.PutUint16(b[22:], 0xfff0)
			return b
		}),
		"fingerprint not last": func() []byte {
			m := bindingRequest(t, stun.Fingerprint)
			m.Add(stun.AttrSoftware, []byte("late"))
			return m.Raw
		}(),
	}
	for name, req := range cases {
		if resp, ok := AnswerBinding(req, from); ok {
			t.Errorf("%s: answered (% x), want dropped", name, resp)
		}
	}
	if _, ok := AnswerBinding(valid, netip.AddrPort{}); ok {
		t.Error("answered for an invalid source address")
	}
}

func TestAnswerBindingAllocations(t *testing.T) {
	req := bindingRequest(t, stun.NewSoftware("phone"), stun.Fingerprint).Raw
	from := netip.MustParseAddrPort("[2001:db8::1]:1024")
	if n := testing.AllocsPerRun(100, func() { AnswerBinding(req, from) }); n > 1 {
		t.Errorf("AnswerBinding: %v allocations, want at most 1", n)
	}
	rtp := append([]byte{0x80, 0x00, 0x00, 0x01}, make([]byte, 168)...)
	if n := testing.AllocsPerRun(100, func() { AnswerBinding(rtp, from) }); n != 0 {
		t.Errorf("AnswerBinding on RTP: %v allocations, want 0", n)
	}
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { AppendBindingAnswer(buf[:0], req, from) }); n != 0 {
		t.Errorf("AppendBindingAnswer into a big enough buffer: %v allocations, want 0", n)
	}
	// The ICE check with credentials and the 420 path reuse pooled
	// messages too.
	unknown := bindingRequest(t, stun.RawAttribute{Type: 0x0003, Value: []byte{0, 0, 0, 6}}, stun.Fingerprint).Raw
	for name, req := range map[string][]byte{"RFC 5769 check": rfc5769Request, "420": unknown} {
		if n := testing.AllocsPerRun(100, func() { AppendBindingAnswer(buf[:0], req, from) }); n != 0 {
			t.Errorf("AppendBindingAnswer, %s: %v allocations, want 0", name, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { AppendBindingAnswer(buf[:0], rtp, from) }); n != 0 {
		t.Errorf("AppendBindingAnswer on RTP: %v allocations, want 0", n)
	}
	// Appending keeps what dst held.
	out, ok := AppendBindingAnswer([]byte("prefix"), req, from)
	if !ok || string(out[:6]) != "prefix" {
		t.Fatal("AppendBindingAnswer lost dst's contents")
	}
	decodeResponse(t, out[6:])
}

// Answers come from pooled pion messages: nothing of one request may
// show in the answer to the next, however many attributes it had.
func TestAnswerBindingKeepsNoStateBetweenRequests(t *testing.T) {
	from := netip.MustParseAddrPort("203.0.113.7:40123")
	many := make([]stun.Setter, 0, 201)
	for range 200 { // more attributes than a pooled message has room for
		many = append(many, stun.NewSoftware("x"))
	}
	seq := []struct {
		req          *stun.Message
		wantType     stun.MessageType
		wantFP       bool
		wantUnknowns int
	}{
		{bindingRequest(t, stun.RawAttribute{Type: 0x0003, Value: []byte{0, 0, 0, 6}}, stun.Fingerprint), stun.BindingError, true, 1},
		{bindingRequest(t), stun.BindingSuccess, false, 0},
		{bindingRequest(t, append(many, stun.Fingerprint)...), stun.BindingSuccess, true, 0},
		{bindingRequest(t, stun.RawAttribute{Type: 0x7ff0, Value: []byte{1}}, stun.RawAttribute{Type: 0x7ff1, Value: []byte{1}}), stun.BindingError, false, 2},
		{bindingRequest(t, stun.Fingerprint), stun.BindingSuccess, true, 0},
	}
	for round := range 3 {
		for i, s := range seq {
			resp, ok := AnswerBinding(s.req.Raw, from)
			if !ok {
				t.Fatalf("round %d request %d: not answered", round, i)
			}
			m := decodeResponse(t, resp)
			if m.Type != s.wantType || m.TransactionID != s.req.TransactionID {
				t.Fatalf("round %d request %d: type %v, want %v with its transaction", round, i, m.Type, s.wantType)
			}
			if _, hasFP := m.Attributes.Get(stun.AttrFingerprint); hasFP != s.wantFP {
				t.Errorf("round %d request %d: FINGERPRINT present=%v, want %v", round, i, hasFP, s.wantFP)
			}
			var ua stun.UnknownAttributes
			if err := ua.GetFrom(m); len(ua) != s.wantUnknowns || (err != nil) != (s.wantUnknowns == 0) {
				t.Errorf("round %d request %d: UNKNOWN-ATTRIBUTES %v (%v), want %d types", round, i, ua, err, s.wantUnknowns)
			}
		}
	}
}

// With ok=false, AppendBindingAnswer hands dst back as it was.
func TestAppendBindingAnswerLeavesDstOnDrop(t *testing.T) {
	dst := append(make([]byte, 0, 8), "keep"...)
	out, ok := AppendBindingAnswer(dst, []byte("OPTIONS sip:a@b SIP/2.0\r\n\r\n"), netip.MustParseAddrPort("192.0.2.1:5060"))
	if ok || string(out) != "keep" || cap(out) != cap(dst) || &out[0] != &dst[0] {
		t.Fatalf("dropped datagram changed dst: %q ok=%v", out, ok)
	}
}

func BenchmarkAnswerBinding(b *testing.B) {
	req := bindingRequest(b, stun.Fingerprint).Raw
	from := netip.MustParseAddrPort("203.0.113.7:40123")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := AnswerBinding(req, from); !ok {
			b.Fatal("not answered")
		}
	}
}

func BenchmarkAppendBindingAnswer(b *testing.B) {
	req := bindingRequest(b, stun.Fingerprint).Raw
	from := netip.MustParseAddrPort("203.0.113.7:40123")
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := AppendBindingAnswer(buf[:0], req, from); !ok {
			b.Fatal("not answered")
		}
	}
}
