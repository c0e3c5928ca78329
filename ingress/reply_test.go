package ingress

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestStampTopVia(t *testing.T) {
	src := netip.MustParseAddrPort("203.0.113.1:40123")
	cases := []struct{ in, want string }{
		// RFC 3581 §4: rport without value → rport=port and received, always.
		{"SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1;rport",
			"SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1;received=203.0.113.1;rport=40123"},
		{"SIP/2.0/UDP 203.0.113.1:40123;rport;branch=z9hG4bK1",
			"SIP/2.0/UDP 203.0.113.1:40123;branch=z9hG4bK1;received=203.0.113.1;rport=40123"},
		// RFC 3261 §18.2.1: received only when the host differs.
		{"SIP/2.0/UDP 192.168.1.10;branch=z9hG4bK1", "SIP/2.0/UDP 192.168.1.10;branch=z9hG4bK1;received=203.0.113.1"},
		{"SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK1", "SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK1"},
		{"SIP/2.0/UDP phone.example.com;branch=z9hG4bK1", "SIP/2.0/UDP phone.example.com;branch=z9hG4bK1;received=203.0.113.1"},
		// A forged received is replaced by what we saw.
		{"SIP/2.0/UDP 192.168.1.10;received=6.6.6.6;branch=z9hG4bK1", "SIP/2.0/UDP 192.168.1.10;branch=z9hG4bK1;received=203.0.113.1"},
		// Only the first value of a comma list is ours to stamp.
		{"SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1;rport, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2;rport",
			"SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1;received=203.0.113.1;rport=40123, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2;rport"},
	}
	for _, c := range cases {
		if got := stampTopVia(c.in, src); got != c.want {
			t.Errorf("stampTopVia(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
	v6 := stampTopVia("SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1", netip.MustParseAddrPort("[2001:db8::1]:5060"))
	if strings.Contains(v6, "received") {
		t.Errorf("same IPv6 host got received: %q", v6)
	}
}

func TestHasTagParam(t *testing.T) {
	cases := map[string]bool{
		"<sip:bob@example.com>;tag=1":         true,
		"Bob <sip:bob@example.com;tag=x>":     false,
		"sip:bob@example.com;TAG=2":           true,
		"sip:bob@example.com":                 false,
		"\"a;tag=b\" <sip:bob@example.com>":   false,
		"<sip:bob@example.com>;foo=1;tag=abc": true,
	}
	for in, want := range cases {
		if got := hasTagParam(in); got != want {
			t.Errorf("hasTagParam(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestScanRequest(t *testing.T) {
	raw := "invite sip:bob@example.com SIP/2.0\n" +
		"v: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\n" +
		"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2\r\n" +
		"f: <sip:a@example.com>;tag=1\n" +
		"To: <sip:bob@example.com>\r\n" +
		"\t;x=folded\r\n" +
		"i: abc\n" +
		"CSeq: 1 INVITE\n" +
		"CSeq: 2 INVITE\n" +
		"\n" +
		"Via: SIP/2.0/UDP body.example.com\n"
	r, ok := scanRequest([]byte(raw))
	if !ok {
		t.Fatal("not recognised as a request")
	}
	if r.method != "INVITE" || len(r.vias) != 2 || r.from != "<sip:a@example.com>;tag=1" ||
		r.to != "<sip:bob@example.com> ;x=folded" || r.callID != "abc" || r.cseq != "1 INVITE" {
		t.Fatalf("scanned %+v", r)
	}
	for _, notRequest := range []string{"SIP/2.0 200 OK\r\n\r\n", "", "\x00\x01\x02", "GET / HTTP/1.1\r\n\r\n", "INVITE\r\n"} {
		if _, ok := scanRequest([]byte(notRequest)); ok {
			t.Errorf("%q scanned as a request", notRequest)
		}
	}
}

func TestBuildReplyRefuses(t *testing.T) {
	src := netip.MustParseAddrPort("127.0.0.1:5060")
	base := scannedRequest{method: "INVITE", vias: []string{"SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1"}, cseq: "1 INVITE"}
	if _, err := buildReply(base, 400, "Bad Request", src); err != nil {
		t.Fatalf("minimal request not answerable: %v", err)
	}
	cases := map[string]func(r *scannedRequest){
		"ACK":       func(r *scannedRequest) { r.method = "ACK" },
		"CSeq ACK":  func(r *scannedRequest) { r.cseq = "1 ACK" },
		"no Via":    func(r *scannedRequest) { r.vias = nil },
		"no CSeq":   func(r *scannedRequest) { r.cseq = "" },
		"CR in Via": func(r *scannedRequest) { r.vias = []string{"SIP/2.0/UDP a\rX: y"} },
		"huge Via":  func(r *scannedRequest) { r.vias = []string{strings.Repeat("v", maxReplyHeaderLen+1)} },
		"too many Vias": func(r *scannedRequest) {
			r.vias = strings.Split(strings.Repeat("SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1|", 200), "|")[:200]
		},
		"NUL in CSeq":     func(r *scannedRequest) { r.cseq = "1 INV\x00ITE" },
		"invalid source ": func(r *scannedRequest) {},
	}
	for name, mutate := range cases {
		r := base
		mutate(&r)
		s := src
		if name == "invalid source " {
			s = netip.AddrPort{}
		}
		if reply, err := buildReply(r, 400, "Bad Request", s); err == nil {
			t.Errorf("%s: answered:\n%s", name, reply)
		}
	}
	// Optional fields that are not sane are left out, not copied.
	r := base
	r.callID = strings.Repeat("c", maxIdentifierLen+1)
	r.from = "<sip:a@b>\x00"
	reply, err := buildReply(r, 400, "Bad Request", src)
	if err != nil || strings.Contains(string(reply), "Call-ID") || strings.Contains(string(reply), "From") {
		t.Fatalf("got %v:\n%s", err, reply)
	}
}

func TestExcerpt(t *testing.T) {
	if got := excerpt([]byte("INVITE\r\n\x00\xff\"é'")); got != `INVITE\r\n\x00\xff"\u00e9'` {
		t.Errorf("excerpt = %s", got)
	}
	long := excerpt([]byte(strings.Repeat("\x01", 500)))
	if len(long) > maxExcerpt || len(long) < maxExcerpt-4 {
		t.Errorf("excerpt length %d", len(long))
	}
}

func TestLogLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewLogLimiter(3)
	l.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow(); !ok {
			t.Fatalf("line %d held back", i)
		}
	}
	for i := 0; i < 5; i++ {
		if ok, _ := l.Allow(); ok {
			t.Fatal("line over the limit let through")
		}
	}
	now = now.Add(time.Second)
	ok, held := l.Allow()
	if !ok || held != 5 {
		t.Fatalf("next window: ok=%v held=%d, want true 5", ok, held)
	}
	if l.suppressedTotal() != 5 {
		t.Fatalf("total %d", l.suppressedTotal())
	}
}
