package nat

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/pion/stun/v3"
)

// rfc5769Password keys the MESSAGE-INTEGRITY of rfc5769Request (RFC 5769
// §2.1), whose USERNAME is "evtj:h6vY".
const rfc5769Password = "VOkJxbRl1RmTxUk/WvJxBt"

func acceptUsername(want string) func(*stun.Message) bool {
	return func(m *stun.Message) bool {
		u, err := m.Get(stun.AttrUsername)
		return err == nil && string(u) == want
	}
}

func TestAppendCheckedBindingAnswerRFC5769(t *testing.T) {
	from := netip.MustParseAddrPort("192.0.2.1:32853")
	req := bytes.Clone(rfc5769Request)
	resp, ok := AppendCheckedBindingAnswer(nil, req, from, []byte(rfc5769Password), acceptUsername("evtj:h6vY"))
	if !ok {
		t.Fatal("RFC 5769 request with the right password not answered")
	}
	if !bytes.Equal(req, rfc5769Request) {
		t.Fatal("the caller's request was changed")
	}
	m := decodeResponse(t, resp)
	if m.Type != stun.BindingSuccess || string(m.TransactionID[:]) != string(req[8:20]) {
		t.Fatalf("type %v, transaction % x", m.Type, m.TransactionID)
	}
	if err := stun.NewShortTermIntegrity(rfc5769Password).Check(m); err != nil {
		t.Fatalf("answer's MESSAGE-INTEGRITY: %v", err)
	}
	if err := stun.Fingerprint.Check(m); err != nil {
		t.Fatalf("answer's FINGERPRINT: %v", err)
	}
	n := len(m.Attributes)
	if n < 2 || m.Attributes[n-2].Type != stun.AttrMessageIntegrity || m.Attributes[n-1].Type != stun.AttrFingerprint {
		t.Fatalf("answer ends with %v, want MESSAGE-INTEGRITY then FINGERPRINT", m.Attributes)
	}
	var xor stun.XORMappedAddress
	if err := xor.GetFrom(m); err != nil || addrPortOf(xor.IP, xor.Port) != from {
		t.Fatalf("XOR-MAPPED-ADDRESS %v (%v), want %v", xor, err, from)
	}
}

// pion checks integrity by writing into the message's buffer; the
// caller's bytes past the request, which a relay's read buffer has, stay
// as they were.
func TestAppendCheckedBindingAnswerLeavesSpareCapacity(t *testing.T) {
	buf := bytes.Repeat([]byte{0xEE}, len(rfc5769Request)+64)
	copy(buf, rfc5769Request)
	req := buf[:len(rfc5769Request)]
	if _, ok := AppendCheckedBindingAnswer(nil, req, netip.MustParseAddrPort("192.0.2.1:1"),
		[]byte(rfc5769Password), acceptUsername("evtj:h6vY")); !ok {
		t.Fatal("not answered")
	}
	if !bytes.Equal(req, rfc5769Request) || !bytes.Equal(buf[len(req):], bytes.Repeat([]byte{0xEE}, 64)) {
		t.Fatal("the caller's buffer was written")
	}
}

func TestAppendCheckedBindingAnswerRefuses(t *testing.T) {
	from := netip.MustParseAddrPort("192.0.2.1:1")
	key := []byte("a-password-of-22-chars")
	build := func(setters ...stun.Setter) []byte { return bindingRequest(t, setters...).Raw }
	user := stun.NewUsername("local:remote")
	mi := stun.NewShortTermIntegrity(string(key))
	// A comprehension-optional attribute that makes the request too large.
	padding := stun.RawAttribute{Type: 0x8050, Value: make([]byte, maxCheckedRequest)}
	cases := []struct {
		name   string
		req    []byte
		key    []byte
		accept func(*stun.Message) bool
	}{
		{"wrong password", build(user, stun.NewShortTermIntegrity("another password"), stun.Fingerprint), key, acceptUsername("local:remote")},
		{"refused by accept", build(user, mi, stun.Fingerprint), key, acceptUsername("local:other")},
		{"no integrity", build(user, stun.Fingerprint), key, acceptUsername("local:remote")},
		{"no username", build(mi, stun.Fingerprint), key, func(*stun.Message) bool { return true }},
		{"username after integrity", build(mi, user, stun.Fingerprint), key, func(*stun.Message) bool { return true }},
		{"no key", build(user, mi), nil, acceptUsername("local:remote")},
		{"unknown required attribute", build(stun.RawAttribute{Type: 0x0003, Value: []byte{0, 0, 0, 6}}, user, mi, stun.Fingerprint), key, acceptUsername("local:remote")},
		{"too large", build(padding, user, mi), key, func(*stun.Message) bool { return true }},
		{"RTP", append([]byte{0x80, 0, 0, 1}, make([]byte, 168)...), key, func(*stun.Message) bool { return true }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := append(make([]byte, 0, 256), "keep"...)
			out, ok := AppendCheckedBindingAnswer(dst, c.req, from, c.key, c.accept)
			if ok || string(out) != "keep" {
				t.Fatalf("answered (ok=%v, %q)", ok, out)
			}
		})
	}
	// The same request with the right key and username is answered, so
	// each case above fails for its own reason.
	if _, ok := AppendCheckedBindingAnswer(nil, build(user, mi, stun.Fingerprint), from, key, acceptUsername("local:remote")); !ok {
		t.Fatal("the valid request was not answered")
	}
}

// RFC 5389 §15.4: attributes after MESSAGE-INTEGRITY are not covered by
// it, so anyone on the path could add them; accept must not see them.
func TestAppendCheckedBindingAnswerHidesAttributesAfterIntegrity(t *testing.T) {
	key := "a-password-of-22-chars"
	req := bindingRequest(t, stun.NewUsername("l:r"), stun.NewShortTermIntegrity(key),
		stun.RawAttribute{Type: stun.AttrUseCandidate}, stun.Fingerprint).Raw
	sawAfter := true
	_, ok := AppendCheckedBindingAnswer(nil, req, netip.MustParseAddrPort("192.0.2.1:1"), []byte(key),
		func(m *stun.Message) bool {
			sawAfter = m.Contains(stun.AttrUseCandidate)
			return true
		})
	if !ok {
		t.Fatal("not answered")
	}
	if sawAfter {
		t.Fatal("accept saw an attribute that follows MESSAGE-INTEGRITY")
	}
}

func TestAppendCheckedBindingAnswerAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	key := []byte(rfc5769Password)
	from := netip.MustParseAddrPort("[2001:db8::1]:1024")
	buf := make([]byte, 0, 256)
	accept := acceptUsername("evtj:h6vY")
	if n := testing.AllocsPerRun(100, func() { AppendCheckedBindingAnswer(buf[:0], rfc5769Request, from, key, accept) }); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}

func BenchmarkAppendCheckedBindingAnswer(b *testing.B) {
	key := []byte(rfc5769Password)
	from := netip.MustParseAddrPort("203.0.113.7:40123")
	buf := make([]byte, 0, 256)
	accept := acceptUsername("evtj:h6vY")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := AppendCheckedBindingAnswer(buf[:0], rfc5769Request, from, key, accept); !ok {
			b.Fatal("not answered")
		}
	}
}
