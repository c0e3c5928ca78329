package sbc

import (
	"net/netip"
	"testing"
)

// countingRouter answers every lookup with src and counts them.
type countingRouter struct {
	src   netip.Addr
	calls int
}

func (r *countingRouter) SourceFor(netip.Addr) (netip.Addr, error) {
	r.calls++
	return r.src, nil
}

func facingSocket(t *testing.T, name, addr string) *socket {
	t.Helper()
	sock, err := newSocket(Listener{Spec: ListenSpec{Name: name, Network: "udp", Addr: netip.MustParseAddrPort(addr)}, Packet: fakeAddrConn(addr)})
	if err != nil {
		t.Fatal(err)
	}
	return sock
}

// One socket bound to an address is the answer whatever the route says:
// facing skips the lookup (a netlink round trip per call) and still
// advertises the bound address.
func TestFacingOneBoundSocketSkipsRouteLookup(t *testing.T) {
	r := &countingRouter{src: netip.MustParseAddr("10.9.9.9")}
	s := &Server{router: r, sockets: []*socket{facingSocket(t, "only", "10.0.0.5:5060")}}
	sock, adv, err := s.facing("udp", netip.MustParseAddr("192.0.2.1"))
	if err != nil {
		t.Fatal(err)
	}
	if sock != s.sockets[0] || adv != netip.MustParseAddrPort("10.0.0.5:5060") {
		t.Fatalf("got %v advertising %v", sock, adv)
	}
	if r.calls != 0 {
		t.Fatalf("route looked up %d times, want 0", r.calls)
	}
}

// With two sockets, or a wildcard one, the lookup decides and is made.
func TestFacingLooksUpRouteWhenItDecides(t *testing.T) {
	cases := map[string]struct {
		sockets []*socket
		want    netip.AddrPort
	}{
		"two bound sockets": {
			[]*socket{facingSocket(t, "a", "10.0.0.5:5060"), facingSocket(t, "b", "10.9.9.9:5060")},
			netip.MustParseAddrPort("10.9.9.9:5060"),
		},
		"one wildcard socket": {
			[]*socket{facingSocket(t, "any", "0.0.0.0:5060")},
			netip.MustParseAddrPort("10.9.9.9:5060"),
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := &countingRouter{src: netip.MustParseAddr("10.9.9.9")}
			s := &Server{router: r, sockets: c.sockets}
			_, adv, err := s.facing("udp", netip.MustParseAddr("192.0.2.1"))
			if err != nil {
				t.Fatal(err)
			}
			if adv != c.want || r.calls != 1 {
				t.Fatalf("advertised %v after %d lookups, want %v after 1", adv, r.calls, c.want)
			}
		})
	}
}
