package nat

import (
	"errors"
	"net/netip"
	"testing"
)

func TestStaticRouterMostSpecificWins(t *testing.T) {
	r := StaticRouter{
		netip.MustParsePrefix("0.0.0.0/0"):     netip.MustParseAddr("203.0.113.5"),
		netip.MustParsePrefix("10.0.0.0/8"):    netip.MustParseAddr("10.0.0.5"),
		netip.MustParsePrefix("10.1.0.0/16"):   netip.MustParseAddr("10.1.0.5"),
		netip.MustParsePrefix("2001:db8::/32"): netip.MustParseAddr("2001:db8::5"),
	}
	cases := []struct{ dst, want string }{
		{"8.8.8.8", "203.0.113.5"},
		{"10.9.9.9", "10.0.0.5"},
		{"10.1.2.3", "10.1.0.5"},
		{"::ffff:10.1.2.3", "10.1.0.5"},
		{"2001:db8::77", "2001:db8::5"},
	}
	for _, c := range cases {
		got, err := r.SourceFor(netip.MustParseAddr(c.dst))
		if err != nil || got != netip.MustParseAddr(c.want) {
			t.Errorf("SourceFor(%s) = %v, %v; want %s", c.dst, got, err, c.want)
		}
	}
	if _, err := r.SourceFor(netip.MustParseAddr("2001:db9::1")); !errors.Is(err, ErrNoRoute) {
		t.Errorf("unrouted IPv6: err = %v, want ErrNoRoute", err)
	}
	if _, err := (StaticRouter{}).SourceFor(netip.MustParseAddr("1.2.3.4")); !errors.Is(err, ErrNoRoute) {
		t.Errorf("empty router: err = %v, want ErrNoRoute", err)
	}
}

func TestFallback(t *testing.T) {
	primary := StaticRouter{netip.MustParsePrefix("10.0.0.0/8"): netip.MustParseAddr("10.0.0.5")}
	fallback := StaticRouter{netip.MustParsePrefix("0.0.0.0/0"): netip.MustParseAddr("203.0.113.5")}
	r := Fallback(primary, fallback)

	if got, err := r.SourceFor(netip.MustParseAddr("10.0.0.10")); err != nil || got != netip.MustParseAddr("10.0.0.5") {
		t.Errorf("primary answer: %v, %v", got, err)
	}
	if got, err := r.SourceFor(netip.MustParseAddr("198.51.100.1")); err != nil || got != netip.MustParseAddr("203.0.113.5") {
		t.Errorf("fallback answer: %v, %v", got, err)
	}
	if _, err := r.SourceFor(netip.MustParseAddr("2001:db8::1")); !errors.Is(err, ErrNoRoute) {
		t.Errorf("both fail: err = %v, want ErrNoRoute", err)
	}
}

func TestNetlinkRouterLoopback(t *testing.T) {
	got, err := NewNetlinkRouter().SourceFor(netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatalf("SourceFor(127.0.0.1): %v", err)
	}
	if got != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("SourceFor(127.0.0.1) = %s, want 127.0.0.1", got)
	}
	if _, err := NewNetlinkRouter().SourceFor(netip.Addr{}); !errors.Is(err, ErrNoRoute) {
		t.Errorf("invalid dst: err = %v, want ErrNoRoute", err)
	}
}
