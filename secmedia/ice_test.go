package secmedia

import (
	"encoding/binary"
	"net"
	"net/netip"
	"regexp"
	"testing"

	"github.com/pion/stun/v3"
)

// browserCheck builds a connectivity check as a browser's full ICE agent
// does (RFC 8445 §7.1.1, §7.1.2, §7.2.2): USERNAME "receiver:sender",
// PRIORITY, ICE-CONTROLLING with its tie-breaker, USE-CANDIDATE when it
// nominates, then MESSAGE-INTEGRITY keyed with natsbc's pwd and FINGERPRINT.
func browserCheck(t testing.TB, username, pwd string, nominate bool) *stun.Message {
	t.Helper()
	priority := make([]byte, 4)
	binary.BigEndian.PutUint32(priority, 1853817087)
	tieBreaker := make([]byte, 8)
	binary.BigEndian.PutUint64(tieBreaker, 0x1122334455667788)
	setters := []stun.Setter{
		stun.TransactionID, stun.BindingRequest,
		stun.NewUsername(username),
		stun.RawAttribute{Type: stun.AttrPriority, Value: priority},
		stun.RawAttribute{Type: stun.AttrICEControlling, Value: tieBreaker},
	}
	if nominate {
		setters = append(setters, stun.RawAttribute{Type: stun.AttrUseCandidate})
	}
	setters = append(setters, stun.NewShortTermIntegrity(pwd), stun.Fingerprint)
	m, err := stun.Build(setters...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNewICECredentials(t *testing.T) {
	ufrag, pwd := NewICECredentials()
	iceChar := regexp.MustCompile(`^[A-Za-z0-9+/]+$`)
	if len(ufrag) != 8 || len(pwd) != 24 || !iceChar.MatchString(ufrag) || !iceChar.MatchString(pwd) {
		t.Fatalf("ufrag %q, pwd %q: want 8 and 24 ice-chars", ufrag, pwd)
	}
	u2, p2 := NewICECredentials()
	if u2 == ufrag || p2 == pwd {
		t.Fatal("the same credentials twice")
	}
}

func TestICELiteAnswersBrowserCheck(t *testing.T) {
	ufrag, pwd := NewICECredentials()
	ice := &ICELite{LocalUfrag: ufrag, LocalPwd: pwd, RemoteUfrag: "bRoW"}
	for _, src := range []netip.AddrPort{
		netip.MustParseAddrPort("198.51.100.20:61234"),
		netip.MustParseAddrPort("[2001:db8:5::20]:50000"),
	} {
		for _, nominate := range []bool{false, true} {
			req := browserCheck(t, ufrag+":bRoW", pwd, nominate)
			resp, useCandidate, ok := ice.Answer(nil, req.Raw, src)
			if !ok {
				t.Fatalf("%v nominate=%v: check not answered", src, nominate)
			}
			if useCandidate != nominate {
				t.Errorf("%v: useCandidate %v, want %v", src, useCandidate, nominate)
			}
			// The browser's side: decode, verify with the pwd it was
			// given, read the mapped address.
			m := &stun.Message{Raw: resp}
			if err := m.Decode(); err != nil {
				t.Fatal(err)
			}
			if m.Type != stun.BindingSuccess || m.TransactionID != req.TransactionID {
				t.Fatalf("type %v, transaction %x; want success to %x", m.Type, m.TransactionID, req.TransactionID)
			}
			if err := stun.NewShortTermIntegrity(pwd).Check(m); err != nil {
				t.Fatalf("MESSAGE-INTEGRITY with the pwd: %v", err)
			}
			if err := stun.Fingerprint.Check(m); err != nil {
				t.Fatalf("FINGERPRINT: %v", err)
			}
			var xor stun.XORMappedAddress
			if err := xor.GetFrom(m); err != nil {
				t.Fatal(err)
			}
			ip, _ := netip.AddrFromSlice(xor.IP)
			if got := netip.AddrPortFrom(ip.Unmap(), uint16(xor.Port)); got != src {
				t.Fatalf("XOR-MAPPED-ADDRESS %v, want %v", got, src)
			}
			if src.Addr().Is4() != (len(xor.IP) == net.IPv4len || ip.Is4In6()) {
				t.Fatalf("address family of %v changed", src)
			}
		}
	}
}

func TestICELiteRefuses(t *testing.T) {
	ice := &ICELite{LocalUfrag: "natsbcUF", LocalPwd: "natsbc-pwd-of-24-chars!!", RemoteUfrag: "peer"}
	src := netip.MustParseAddrPort("198.51.100.20:61234")
	noIntegrity, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.NewUsername("natsbcUF:peer"), stun.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	badFingerprint := browserCheck(t, "natsbcUF:peer", ice.LocalPwd, true)
	badFingerprint.Raw[len(badFingerprint.Raw)-1] ^= 1
	cases := map[string][]byte{
		"wrong pwd":             browserCheck(t, "natsbcUF:peer", "another-pwd-of-24-chars!", true).Raw,
		"wrong local ufrag":     browserCheck(t, "otherUF0:peer", ice.LocalPwd, true).Raw,
		"wrong remote ufrag":    browserCheck(t, "natsbcUF:stranger", ice.LocalPwd, true).Raw,
		"ufrags swapped":        browserCheck(t, "peer:natsbcUF", ice.LocalPwd, true).Raw,
		"local ufrag only":      browserCheck(t, "natsbcUF", ice.LocalPwd, true).Raw,
		"local ufrag prefix":    browserCheck(t, "natsbcUFX:peer", ice.LocalPwd, true).Raw,
		"no integrity":          noIntegrity.Raw,
		"bad fingerprint":       badFingerprint.Raw,
		"binding without creds": mustBuild(t, stun.TransactionID, stun.BindingRequest),
		"not STUN":              append([]byte{0x80, 0, 0, 1}, make([]byte, 168)...),
	}
	for name, req := range cases {
		t.Run(name, func(t *testing.T) {
			dst := append(make([]byte, 0, 256), "keep"...)
			out, useCandidate, ok := ice.Answer(dst, req, src)
			if ok || useCandidate || string(out) != "keep" {
				t.Fatalf("answered: ok=%v useCandidate=%v %q", ok, useCandidate, out)
			}
		})
	}
	// The same check with the right credentials is answered.
	if _, _, ok := ice.Answer(nil, browserCheck(t, "natsbcUF:peer", ice.LocalPwd, true).Raw, src); !ok {
		t.Fatal("the valid check was not answered")
	}
	// Without RemoteUfrag any sender's fragment is accepted.
	open := &ICELite{LocalUfrag: ice.LocalUfrag, LocalPwd: ice.LocalPwd}
	if _, _, ok := open.Answer(nil, browserCheck(t, "natsbcUF:whoever", ice.LocalPwd, false).Raw, src); !ok {
		t.Fatal("check not answered with RemoteUfrag unset")
	}
	// An empty sender fragment is none (RFC 8445 §5.3: at least 4 characters).
	if _, _, ok := open.Answer(nil, browserCheck(t, "natsbcUF:", ice.LocalPwd, false).Raw, src); ok {
		t.Fatal("empty remote ufrag accepted")
	}
	// No credentials configured: nothing is answered.
	if _, _, ok := (&ICELite{}).Answer(nil, browserCheck(t, ":", "", false).Raw, src); ok {
		t.Fatal("answered without local credentials")
	}
}

func mustBuild(t testing.TB, setters ...stun.Setter) []byte {
	t.Helper()
	m, err := stun.Build(setters...)
	if err != nil {
		t.Fatal(err)
	}
	return m.Raw
}

// RFC 5769 §2.1's sample request is an ICE check (USERNAME "evtj:h6vY",
// PRIORITY, ICE-CONTROLLED, MESSAGE-INTEGRITY, FINGERPRINT): an
// implementation-independent vector for the integrity check.
func TestICELiteRFC5769Vector(t *testing.T) {
	req := []byte("\x00\x01\x00\x58\x21\x12\xa4\x42" +
		"\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae" +
		"\x80\x22\x00\x10STUN test client" +
		"\x00\x24\x00\x04\x6e\x00\x01\xff" +
		"\x80\x29\x00\x08\x93\x2f\xf9\xb1\x51\x26\x3b\x36" +
		"\x00\x06\x00\x09evtj:h6vY   " +
		"\x00\x08\x00\x14\x9a\xea\xa7\x0c\xbf\xd8\xcb\x56\x78\x1e\xf2\xb5" +
		"\xb2\xd3\xf2\x49\xc1\xb5\x71\xa2" +
		"\x80\x28\x00\x04\xe5\x7a\x3b\xcf")
	ice := &ICELite{LocalUfrag: "evtj", LocalPwd: "VOkJxbRl1RmTxUk/WvJxBt", RemoteUfrag: "h6vY"}
	if _, useCandidate, ok := ice.Answer(nil, req, netip.MustParseAddrPort("192.0.2.1:32853")); !ok || useCandidate {
		t.Fatalf("RFC 5769 request: ok=%v useCandidate=%v", ok, useCandidate)
	}
	ice.LocalPwd = "VOkJxbRl1RmTxUk/WvJxBT"
	if _, _, ok := ice.Answer(nil, req, netip.MustParseAddrPort("192.0.2.1:32853")); ok {
		t.Fatal("answered with a pwd one letter off")
	}
}

func TestICELiteAnswerAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	ice := &ICELite{LocalUfrag: "natsbcUF", LocalPwd: "natsbc-pwd-of-24-chars!!", RemoteUfrag: "peer"}
	req := browserCheck(t, "natsbcUF:peer", ice.LocalPwd, true).Raw
	src := netip.MustParseAddrPort("198.51.100.20:61234")
	buf := make([]byte, 0, 256)
	n := testing.AllocsPerRun(100, func() { ice.Answer(buf, req, src) })
	t.Logf("%v allocations per answer", n)
	if n > 1 {
		t.Errorf("%v allocations per answer, want at most 1", n)
	}
}

func BenchmarkICEAnswer(b *testing.B) {
	ice := &ICELite{LocalUfrag: "natsbcUF", LocalPwd: "natsbc-pwd-of-24-chars!!", RemoteUfrag: "peer"}
	req := browserCheck(b, "natsbcUF:peer", ice.LocalPwd, true).Raw
	src := netip.MustParseAddrPort("198.51.100.20:61234")
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := ice.Answer(buf, req, src); !ok {
			b.Fatal("not answered")
		}
	}
}

// FuzzICEAnswer: no input panics; whatever is answered is a Binding
// success that verifies with the pwd, carries the request's transaction
// and maps src; ok=false leaves dst as it was.
func FuzzICEAnswer(f *testing.F) {
	ice := &ICELite{LocalUfrag: "natsbcUF", LocalPwd: "natsbc-pwd-of-24-chars!!", RemoteUfrag: "peer"}
	f.Add(browserCheck(f, "natsbcUF:peer", ice.LocalPwd, true).Raw, []byte{198, 51, 100, 20}, uint16(61234))
	f.Add(browserCheck(f, "natsbcUF:peer", ice.LocalPwd, false).Raw, []byte(net.ParseIP("2001:db8::1").To16()), uint16(1))
	f.Add(browserCheck(f, "natsbcUF:peer", "wrong", false).Raw, []byte{10, 0, 0, 1}, uint16(9))
	f.Add([]byte{0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, []byte{1, 2, 3, 4}, uint16(0))
	f.Fuzz(func(t *testing.T, req, ip []byte, port uint16) {
		a, _ := netip.AddrFromSlice(ip)
		src := netip.AddrPortFrom(a, port)
		orig := string(req)
		resp, useCandidate, ok := ice.Answer([]byte("pre"), req, src)
		if string(req) != orig {
			t.Fatal("Answer changed the request")
		}
		if string(resp[:3]) != "pre" {
			t.Fatal("Answer lost dst's contents")
		}
		if !ok {
			if len(resp) != 3 || useCandidate {
				t.Fatalf("ok=false with %d bytes appended, useCandidate=%v", len(resp)-3, useCandidate)
			}
			return
		}
		m := &stun.Message{Raw: append([]byte(nil), resp[3:]...)}
		if err := m.Decode(); err != nil {
			t.Fatalf("answer does not parse: %v", err)
		}
		if m.Type != stun.BindingSuccess || string(m.TransactionID[:]) != orig[8:20] {
			t.Fatalf("answer type %v or transaction wrong", m.Type)
		}
		if err := stun.NewShortTermIntegrity(ice.LocalPwd).Check(m); err != nil {
			t.Fatalf("answer's integrity: %v", err)
		}
		if err := stun.Fingerprint.Check(m); err != nil {
			t.Fatalf("answer's fingerprint: %v", err)
		}
		var xor stun.XORMappedAddress
		if err := xor.GetFrom(m); err != nil {
			t.Fatal(err)
		}
		got, _ := netip.AddrFromSlice(xor.IP)
		if got.Unmap() != a.WithZone("").Unmap() || xor.Port != int(port) {
			t.Fatalf("mapped %v:%d, want %v", got, xor.Port, src)
		}
	})
}
