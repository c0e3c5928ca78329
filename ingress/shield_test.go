package ingress

import (
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/emiago/sipgo/sip"
)

var (
	phone   = netip.MustParseAddr("198.51.100.7")
	scanner = netip.MustParseAddr("203.0.113.66")
	pbx     = netip.MustParseAddr("10.0.0.5")
)

func testShield(cfg ShieldConfig) *Shield {
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if cfg.Peer == nil {
		cfg.Peer = func(a netip.Addr) bool { return a == pbx }
	}
	return NewShield(cfg)
}

// The bucket lets a burst through, then answers 503 once and drops the
// rest; it refills at the rate; a retransmission (same branch and method)
// takes no token; a peer without its own rate is never limited.
func TestShieldBucket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := testShield(ShieldConfig{Rate: 2, Burst: 3})
		for i := range 3 {
			if v := s.Request(phone, "", "b"+strconv.Itoa(i), "INVITE"); v != Pass {
				t.Fatalf("request %d of the burst: %v", i, v)
			}
		}
		if v := s.Request(phone, "", "b2", "INVITE"); v != Pass {
			t.Fatalf("a retransmission over the limit: %v, want Pass", v)
		}
		if v := s.Request(phone, "", "b3", "INVITE"); v != Answer503 {
			t.Fatalf("first request over the limit: %v, want Answer503", v)
		}
		if v := s.Request(phone, "", "b4", "INVITE"); v != Drop {
			t.Fatalf("second request over the limit: %v, want Drop", v)
		}
		time.Sleep(500 * time.Millisecond) // one token at 2/s
		if v := s.Request(phone, "", "b5", "INVITE"); v != Pass {
			t.Fatalf("after the refill: %v, want Pass", v)
		}
		for i := range 100 {
			if v := s.Request(pbx, "", "p"+strconv.Itoa(i), "INVITE"); v != Pass {
				t.Fatalf("peer request %d: %v", i, v)
			}
		}
		if st := s.Stats(); st.Answered503 != 1 || st.DroppedRate != 2 {
			t.Errorf("stats %+v, want one 503 and two rate drops", st)
		}
	})
}

// Sustained excess bans the source for BanTime: Admit drops it, Bans
// lists it, and the ban ends by itself; Lift ends one at once.
func TestShieldBanExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := testShield(ShieldConfig{Rate: 1, Burst: 1, BanAfter: 5, BanTime: time.Hour, Scanners: DefaultScanners})
		var last Verdict
		for i := range 6 {
			last = s.Request(phone, "", "b"+strconv.Itoa(i), "REGISTER")
		}
		if last != DropBanned {
			t.Fatalf("the 5th request over the limit: %v, want DropBanned", last)
		}
		if v := s.Admit(phone, Endpoints{}); v != DropBanned {
			t.Fatalf("Admit of a banned source: %v", v)
		}
		if bans := s.Bans(); len(bans) != 1 || bans[0].Source != phone {
			t.Fatalf("Bans() = %v", bans)
		}
		time.Sleep(time.Hour + time.Second)
		if v := s.Admit(phone, Endpoints{}); v != Pass {
			t.Fatalf("Admit after the ban expired: %v", v)
		}
		if st := s.Stats(); st.Bans != 1 || st.Unbans != 1 {
			t.Errorf("stats %+v, want one ban and one unban", st)
		}

		s.Request(scanner, "friendly-scanner", "x", "OPTIONS")
		if !s.Lift(scanner) || s.Admit(scanner, Endpoints{}) != Pass || s.Lift(scanner) {
			t.Fatal("Lift did not end the scanner's ban once")
		}
	})
}

// A flood far over the rate is banned although the refill lets one of its
// requests through every 1/rate s: the excess ends only when the source
// lets its bucket fill again. A source that does so gets a new 503 for
// its next excess and starts from zero.
func TestShieldFloodBannedThroughRefills(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := testShield(ShieldConfig{Rate: 20, Burst: 40, BanAfter: 200, BanTime: time.Hour})
		calm := netip.MustParseAddr("198.51.100.8")
		// The calm source exceeds twice, filling its bucket in between.
		for round := range 2 {
			for i := range 60 {
				s.Request(calm, "", "c"+strconv.Itoa(round*100+i), "INVITE")
			}
			time.Sleep(3 * time.Second) // 40 tokens at 20/s take 2 s
		}
		sent := 0
		for sent < 2000 && s.Admit(phone, Endpoints{}) == Pass {
			s.Request(phone, "", "f"+strconv.Itoa(sent), "INVITE")
			sent++
			time.Sleep(500 * time.Microsecond) // 2000 requests/s
		}
		if sent >= 2000 {
			t.Fatal("a flood at 100 times the rate was never banned")
		}
		// 40 (burst) + 200 over it + the few refills in between.
		if sent > 260 {
			t.Errorf("flood banned after %d requests, want about 240", sent)
		}
		if s.Admit(calm, Endpoints{}) != Pass {
			t.Error("the calm source, whose bucket refilled between excesses, was banned")
		}
		if st := s.Stats(); st.Answered503 != 3 {
			t.Errorf("%d 503s, want one per excess: the calm source's two and the flood's one", st.Answered503)
		}
	})
}

// A scanner's User-Agent, in any case, is dropped and its source banned.
func TestShieldScanner(t *testing.T) {
	s := testShield(ShieldConfig{Scanners: DefaultScanners, BanTime: time.Hour})
	for _, ua := range []string{"friendly-scanner", "SIPVicious 0.3.4", "sipcli/v1.8", "Nmap NSE"} {
		if v := s.Request(scanner, ua, "b", "OPTIONS"); v != DropBanned {
			t.Errorf("User-Agent %q: %v, want DropBanned", ua, v)
		}
	}
	if v := s.Request(phone, "Linphone/5.1 (belle-sip/5.1)", "b", "REGISTER"); v != Pass {
		t.Errorf("a real phone: %v", v)
	}
	if v := s.Admit(scanner, Endpoints{}); v != DropBanned {
		t.Errorf("Admit of the scanner after its scan: %v", v)
	}
}

// Deny, then Allow, then peers and the socket's endpoints.
func TestShieldAccess(t *testing.T) {
	office := netip.MustParsePrefix("198.51.100.0/24")
	s := testShield(ShieldConfig{Deny: []netip.Prefix{netip.MustParsePrefix("198.51.100.66/32")}})
	for _, c := range []struct {
		src  netip.Addr
		ep   Endpoints
		want Verdict
	}{
		{phone, Endpoints{}, Pass},                                               // endpoints: any
		{phone, Endpoints{Restricted: true}, Drop},                               // endpoints: none
		{phone, Endpoints{Restricted: true, Nets: []netip.Prefix{office}}, Pass}, // endpoints: [office]
		{scanner, Endpoints{Restricted: true, Nets: []netip.Prefix{office}}, Drop},
		{pbx, Endpoints{Restricted: true}, Pass},                  // a peer passes any socket's endpoint rule
		{netip.MustParseAddr("198.51.100.66"), Endpoints{}, Drop}, // denied first
		{netip.MustParseAddr("::ffff:198.51.100.7"), Endpoints{Restricted: true, Nets: []netip.Prefix{office}}, Pass},
	} {
		if v := s.Admit(c.src, c.ep); v != c.want {
			t.Errorf("Admit(%s, %+v) = %v, want %v", c.src, c.ep, v, c.want)
		}
	}
	allow := testShield(ShieldConfig{Allow: []netip.Prefix{office}})
	if allow.Admit(scanner, Endpoints{}) != Drop || allow.Admit(phone, Endpoints{}) != Pass {
		t.Error("with allow, only its sources get in")
	}
}

// A flood from ever new (spoofed) sources cannot grow the table past
// MaxSources; a ban is kept while others can be forgotten.
func TestShieldTableBounded(t *testing.T) {
	s := testShield(ShieldConfig{Rate: 10, Burst: 10, MaxSources: 100, Scanners: []string{"scanner"}, BanTime: time.Hour})
	s.Request(scanner, "scanner", "b", "OPTIONS")
	for i := range 10000 {
		src := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		s.Request(src, "", "b", "INVITE")
	}
	s.mu.Lock()
	n := len(s.sources)
	s.mu.Unlock()
	if n > 100 {
		t.Fatalf("%d sources remembered, want at most 100", n)
	}
	if s.Admit(scanner, Endpoints{}) != DropBanned {
		t.Error("the scanner's ban was forgotten by the flood")
	}
}

// awaitDropped waits until the guard has dropped n datagrams.
func awaitDropped(t *testing.T, g *GuardedPacketConn, n uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for g.Stats().Dropped < n {
		if time.Now().After(deadline) {
			t.Fatalf("guard dropped %d datagrams, want %d", g.Stats().Dropped, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Over its rate a source gets one 503 with Retry-After from the guard,
// then nothing; sipgo never sees either request.
func TestGuardShieldFlood(t *testing.T) {
	r := newGuardRig(t, GuardConfig{Shield: testShield(ShieldConfig{Rate: 0.001, Burst: 1}), Endpoints: Endpoints{}},
		int(sip.TransportBufferReadSize))
	for i := range 3 {
		r.send([]byte(variant("z9hG4bK776asdhds", "z9hG4bK-flood"+strconv.Itoa(i))))
	}
	if got := r.nextRead(); !strings.Contains(string(got.data), "z9hG4bK-flood0") {
		t.Fatalf("the first request of the burst was not passed up:\n%s", got.data)
	}
	res := r.nextAnswer()
	if res.StatusCode != 503 || res.GetHeader("Retry-After") == nil || !strings.Contains(res.Via().Value(), "flood1") {
		t.Fatalf("answer over the rate:\n%s", res)
	}
	awaitDropped(t, r.guard, 1)
	select {
	case got := <-r.reads:
		t.Fatalf("a request over the rate was passed up:\n%s", got.data)
	default:
	}
}

// A scanner's request is dropped without an answer and bans its source:
// its next datagram is dropped before it is parsed.
func TestGuardShieldScanner(t *testing.T) {
	sh := testShield(ShieldConfig{Scanners: DefaultScanners, BanTime: time.Hour})
	r := newGuardRig(t, GuardConfig{Shield: sh, Endpoints: Endpoints{}}, int(sip.TransportBufferReadSize))
	r.send([]byte(variant("Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nUser-Agent: friendly-scanner\r\n")))
	r.send([]byte(ingressInvite))
	awaitDropped(t, r.guard, 2)
	_ = r.client.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, _, err := r.client.ReadFrom(make([]byte, 1500)); err == nil {
		t.Fatalf("the scanner got an answer (%d bytes)", n)
	}
	if st := sh.Stats(); st.DroppedScanner != 1 || st.DroppedBanned != 1 || st.Bans != 1 {
		t.Fatalf("shield stats %+v", st)
	}
}

// Wrong passwords (challenges of requests with credentials) ban a source
// after AuthFailures within AuthWindow; a success forgives, an old failure
// ages out; a peer is never banned for it.
func TestShieldAuthFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := testShield(ShieldConfig{AuthFailures: 3, AuthWindow: 10 * time.Minute, BanTime: time.Hour})
		s.AuthFailed(phone)
		s.AuthFailed(phone)
		s.AuthSucceeded(phone)
		s.AuthFailed(phone)
		s.AuthFailed(phone)
		if s.Admit(phone, Endpoints{}) != Pass {
			t.Fatal("banned after a success forgave the first failures")
		}
		time.Sleep(11 * time.Minute)
		s.AuthFailed(phone) // the window of the two before has passed
		if s.Admit(phone, Endpoints{}) != Pass {
			t.Fatal("banned by failures older than the window")
		}
		s.AuthFailed(phone)
		s.AuthFailed(phone)
		if s.Admit(phone, Endpoints{}) != DropBanned {
			t.Fatal("3 failures within the window did not ban")
		}
		for range 10 {
			s.AuthFailed(pbx)
		}
		if s.Admit(pbx, Endpoints{}) != Pass {
			t.Fatal("a peer was banned for failures")
		}
		if st := s.Stats(); st.AuthFailures != 7 || st.Bans != 1 {
			t.Errorf("stats %+v, want the phone's 7 failures counted and one ban", st)
		}
	})
}
