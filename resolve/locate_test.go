package resolve

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// zone is an in-memory DNS: answers by name, and the questions it got.
type zone struct {
	naptr map[string][]NAPTR
	srv   map[string][]SRV
	ip    map[string][]string
	ttl   time.Duration
	fail  map[string]bool
	asked []string
}

func (z *zone) NAPTR(_ context.Context, name string) ([]NAPTR, time.Duration, error) {
	z.asked = append(z.asked, "NAPTR "+name)
	if z.fail[name] {
		return nil, 0, errors.New("SERVFAIL")
	}
	return z.naptr[name], z.ttl, nil
}

func (z *zone) SRV(_ context.Context, name string) ([]SRV, time.Duration, error) {
	z.asked = append(z.asked, "SRV "+name)
	return z.srv[name], z.ttl, nil
}

func (z *zone) IP(_ context.Context, name string) ([]netip.Addr, time.Duration, error) {
	z.asked = append(z.asked, "IP "+name)
	var out []netip.Addr
	for _, s := range z.ip[name] {
		out = append(out, netip.MustParseAddr(s))
	}
	return out, z.ttl, nil
}

// first always draws 0: within a priority, weight-0 records then the
// first record whose running sum reaches 0 (the first of the list).
func first(int) int { return 0 }

func targets(ts []Target) string {
	var s []string
	for _, t := range ts {
		s = append(s, t.Transport+":"+t.Addr.String())
	}
	return strings.Join(s, " ")
}

func locate(t *testing.T, z *zone, q Query) string {
	t.Helper()
	got, err := New(z, Options{Rand: first}).Locate(context.Background(), q)
	if err != nil {
		t.Fatalf("Locate(%+v): %v", q, err)
	}
	return targets(got)
}

func TestNAPTROrderThenPreferenceThenSRV(t *testing.T) {
	z := &zone{ttl: time.Minute,
		naptr: map[string][]NAPTR{"example.com": {
			{Order: 20, Preference: 1, Flags: "s", Service: "SIP+D2U", Replacement: "_sip._udp.late.example.com"},
			{Order: 10, Preference: 50, Flags: "S", Service: "SIP+D2T", Replacement: "_sip._tcp.example.com"},
			{Order: 10, Preference: 10, Flags: "s", Service: "SIP+D2U", Replacement: "_sip._udp.example.com"},
			{Order: 5, Preference: 1, Flags: "s", Service: "SIPS+D2T", Replacement: "_sips._tcp.example.com"},   // no TLS: skipped
			{Order: 1, Preference: 1, Flags: "u", Service: "SIP+D2U", Replacement: "_sip._udp.bad.example.com"}, // not "s": skipped
		}},
		srv: map[string][]SRV{
			"_sip._udp.example.com":      {{Priority: 1, Port: 5070, Target: "a.example.com."}},
			"_sip._tcp.example.com":      {{Priority: 1, Port: 5080, Target: "a.example.com."}},
			"_sip._udp.late.example.com": {{Priority: 1, Port: 5090, Target: "b.example.com."}},
		},
		ip: map[string][]string{"a.example.com": {"192.0.2.1"}, "b.example.com": {"192.0.2.2", "2001:db8::2"}},
	}
	got := locate(t, z, Query{Host: "example.com"})
	want := "udp:192.0.2.1:5070 tcp:192.0.2.1:5080 udp:192.0.2.2:5090 udp:[2001:db8::2]:5090"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for _, q := range z.asked {
		if strings.Contains(q, "sips") || strings.Contains(q, "bad.") {
			t.Errorf("asked %q of a NAPTR record natsbc cannot use", q)
		}
	}
}

func TestSRVPriorityThenWeight(t *testing.T) {
	z := &zone{ttl: time.Minute,
		srv: map[string][]SRV{"_sip._udp.example.com": {
			{Priority: 20, Weight: 0, Port: 5064, Target: "d"},
			{Priority: 10, Weight: 10, Port: 5061, Target: "a"},
			{Priority: 10, Weight: 90, Port: 5062, Target: "b"},
			{Priority: 10, Weight: 0, Port: 5063, Target: "c"},
			{Priority: 5, Weight: 0, Port: 5060, Target: "."}, // "not offered"
		}},
		ip: map[string][]string{"a": {"192.0.2.1"}, "b": {"192.0.2.2"}, "c": {"192.0.2.3"}, "d": {"192.0.2.4"}},
	}
	// A draw of 0 takes the weight-0 record first, then the first listed.
	if got, want := locate(t, z, Query{Host: "example.com"}), "udp:192.0.2.3:5063 udp:192.0.2.1:5061 udp:192.0.2.2:5062 udp:192.0.2.4:5064"; got != want {
		t.Errorf("draw 0: got %s, want %s", got, want)
	}
	// The highest draw goes to the end of the running sum: the weight-90
	// record, then the weight-10 one.
	high := func(n int) int { return n - 1 }
	got, err := New(z, Options{Rand: high}).Locate(context.Background(), Query{Host: "example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := targets(got), "udp:192.0.2.2:5062 udp:192.0.2.1:5061 udp:192.0.2.3:5063 udp:192.0.2.4:5064"; got != want {
		t.Errorf("high draw: got %s, want %s", got, want)
	}
}

func TestWeightsShareTheLoad(t *testing.T) {
	recs := []SRV{{Priority: 1, Weight: 10, Target: "a"}, {Priority: 1, Weight: 90, Target: "b"}}
	n := 0
	for i := range 101 {
		if orderSRV(recs, func(int) int { return i })[0].Target == "b" {
			n++
		}
	}
	// Draws 0..10 pick a (running sum 10 >= draw), 11..100 pick b.
	if n != 90 {
		t.Errorf("b first for %d of 101 draws, want 90", n)
	}
}

func TestExplicitPortSkipsNAPTRAndSRV(t *testing.T) {
	z := &zone{ttl: time.Minute, ip: map[string][]string{"pbx.example.com": {"10.0.0.10"}}}
	if got := locate(t, z, Query{Host: "pbx.example.com", Port: 5080}); got != "udp:10.0.0.10:5080" {
		t.Errorf("got %s", got)
	}
	if got := locate(t, z, Query{Host: "pbx.example.com", Port: 5080, Transport: "TCP"}); got != "tcp:10.0.0.10:5080" {
		t.Errorf("transport=tcp: got %s", got)
	}
	if !slices.Equal(z.asked, []string{"IP pbx.example.com", "IP pbx.example.com"}) {
		t.Errorf("asked %v, want only addresses", z.asked)
	}
}

func TestExplicitTransportSkipsNAPTR(t *testing.T) {
	z := &zone{ttl: time.Minute,
		srv: map[string][]SRV{"_sip._tcp.example.com": {{Priority: 1, Port: 5090, Target: "a"}}},
		ip:  map[string][]string{"a": {"192.0.2.1"}, "example.com": {"192.0.2.9"}},
	}
	if got := locate(t, z, Query{Host: "example.com", Transport: "tcp"}); got != "tcp:192.0.2.1:5090" {
		t.Errorf("got %s", got)
	}
	// No SRV for udp: the host's own address at 5060.
	if got := locate(t, z, Query{Host: "example.com", Transport: "udp"}); got != "udp:192.0.2.9:5060" {
		t.Errorf("no SRV: got %s", got)
	}
	for _, q := range z.asked {
		if strings.HasPrefix(q, "NAPTR") {
			t.Errorf("asked %q with a transport given", q)
		}
	}
}

func TestNoNAPTRTriesSRVOfEachTransportThenAddresses(t *testing.T) {
	z := &zone{ttl: time.Minute,
		srv: map[string][]SRV{"_sip._tcp.example.com": {{Priority: 1, Port: 5090, Target: "a"}}},
		ip:  map[string][]string{"a": {"192.0.2.1"}, "plain.example.com": {"192.0.2.7"}},
	}
	if got := locate(t, z, Query{Host: "example.com"}); got != "tcp:192.0.2.1:5090" {
		t.Errorf("got %s", got)
	}
	if got := locate(t, z, Query{Host: "plain.example.com"}); got != "udp:192.0.2.7:5060" {
		t.Errorf("no NAPTR, no SRV: got %s", got)
	}
	want := []string{"NAPTR plain.example.com", "SRV _sip._udp.plain.example.com", "SRV _sip._tcp.plain.example.com", "IP plain.example.com"}
	if got := z.asked[len(z.asked)-4:]; !slices.Equal(got, want) {
		t.Errorf("asked %v, want %v", got, want)
	}
}

func TestNumericHostAsksNothing(t *testing.T) {
	z := &zone{}
	if got := locate(t, z, Query{Host: "[2001:db8::1]"}); got != "udp:[2001:db8::1]:5060" {
		t.Errorf("got %s", got)
	}
	if got := locate(t, z, Query{Host: "192.0.2.1", Port: 5070, Transport: "tcp"}); got != "tcp:192.0.2.1:5070" {
		t.Errorf("got %s", got)
	}
	if len(z.asked) != 0 {
		t.Errorf("asked %v", z.asked)
	}
}

func TestNotFoundAndServerFailure(t *testing.T) {
	z := &zone{ttl: time.Minute, fail: map[string]bool{"broken.example.com": true}}
	r := New(z, Options{})
	if _, err := r.Locate(context.Background(), Query{Host: "nowhere.example.com"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("nowhere: err = %v, want ErrNotFound", err)
	}
	if _, err := r.Locate(context.Background(), Query{Host: "broken.example.com"}); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("broken: err = %v, want the server failure", err)
	}
	if _, err := r.Locate(context.Background(), Query{Host: "x", Transport: "sctp"}); err == nil {
		t.Error("sctp: no error")
	}
}

func TestUnresolvableSRVTargetIsSkipped(t *testing.T) {
	z := &zone{ttl: time.Minute,
		srv: map[string][]SRV{"_sip._udp.example.com": {{Priority: 1, Port: 5061, Target: "gone"}, {Priority: 2, Port: 5062, Target: "a"}}},
		ip:  map[string][]string{"a": {"192.0.2.1"}},
	}
	if got := locate(t, z, Query{Host: "example.com"}); got != "udp:192.0.2.1:5062" {
		t.Errorf("got %s", got)
	}
}
