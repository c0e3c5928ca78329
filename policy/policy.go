package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
)

// Config is everything policy decides from.
type Config struct {
	Peers []Peer
	// Routes are tried in order. nil means DefaultRoutes(Peers).
	Routes []Route
	// MaxCalls bounds concurrent calls; 0 means no bound.
	MaxCalls int
}

// Policy answers who a peer is and where its requests go. It is immutable
// after New and safe for concurrent use.
type Policy struct {
	peers    map[string]Peer
	prefixes []peerPrefix // most specific first
	routes   []compiledRoute
	maxCalls int
}

type peerPrefix struct {
	prefix netip.Prefix
	peer   Peer
}

type compiledRoute struct {
	Route
	target Target // Rule is filled in at match time
}

// New checks cfg and builds a Policy. Empty Role, NAT and Transport take
// their defaults (endpoint, auto, udp). All problems are reported at once,
// each wrapping ErrInvalidConfig.
func New(cfg Config) (*Policy, error) {
	p := &Policy{peers: make(map[string]Peer), maxCalls: cfg.MaxCalls}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...)))
	}
	if cfg.MaxCalls < 0 {
		bad("max calls %d is negative", cfg.MaxCalls)
	}
	owner := make(map[netip.Prefix]string)
	for i, peer := range cfg.Peers {
		peer, err := normalizePeer(peer)
		if err != nil {
			bad("peer %d (%s): %v", i+1, peer.Name, err)
			continue
		}
		if _, dup := p.peers[peer.Name]; dup {
			bad("peer %d: name %q is used twice", i+1, peer.Name)
			continue
		}
		p.peers[peer.Name] = peer
		for _, pfx := range peer.Networks {
			if other, dup := owner[pfx]; dup {
				bad("peer %s: network %s already identifies peer %s", peer.Name, pfx, other)
				continue
			}
			owner[pfx] = peer.Name
			p.prefixes = append(p.prefixes, peerPrefix{pfx, peer})
		}
	}
	// Most specific prefix first, so Classify's first hit is the best one.
	sort.SliceStable(p.prefixes, func(i, j int) bool {
		return p.prefixes[i].prefix.Bits() > p.prefixes[j].prefix.Bits()
	})

	routes := cfg.Routes
	if routes == nil {
		routes = DefaultRoutes(cfg.Peers)
	}
	seenFrom := make(map[string]int)
	for i, r := range routes {
		c, err := p.compileRoute(r)
		if err != nil {
			bad("route %d (%s): %v", i+1, r, err)
			continue
		}
		if j, ok := seenFrom[Any]; ok {
			bad("route %d (%s) can never match: route %d catches every source first", i+1, r, j)
		} else if j, ok := seenFrom[r.From]; ok {
			bad("route %d (%s) can never match: route %d has the same from", i+1, r, j)
		}
		if _, ok := seenFrom[r.From]; !ok {
			seenFrom[r.From] = i + 1
		}
		p.routes = append(p.routes, c)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

func normalizePeer(peer Peer) (Peer, error) {
	var err error
	if err = CheckName(peer.Name); err != nil {
		return peer, err
	}
	if peer.Role, err = ParseRole(string(peer.Role)); err != nil {
		return peer, fmt.Errorf("role %v", err)
	}
	if peer.NAT, err = ParseNATMode(string(peer.NAT)); err != nil {
		return peer, fmt.Errorf("nat %v", err)
	}
	if peer.Transport != "" || !locatedByName(peer.Address) {
		if peer.Transport, err = ParseTransport(peer.Transport); err != nil {
			return peer, fmt.Errorf("transport %v", err)
		}
	}
	if peer.Address != "" {
		if _, _, err = SplitPeerAddress(peer.Address); err != nil {
			return peer, fmt.Errorf("address %v", err)
		}
	}
	for _, d := range peer.Domains {
		if err := CheckDomain(d); err != nil {
			return peer, fmt.Errorf("domain %v", err)
		}
	}
	nets := make([]netip.Prefix, 0, len(peer.Networks))
	for _, pfx := range peer.Networks {
		if !pfx.IsValid() {
			return peer, fmt.Errorf("invalid network %v", pfx)
		}
		// A v4-mapped prefix would never match: sources are unmapped.
		if pfx.Addr().Is4In6() && pfx.Bits() >= 96 {
			pfx = netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()-96)
		}
		nets = append(nets, pfx.Masked())
	}
	peer.Networks = nets
	return peer, nil
}

func (p *Policy) compileRoute(r Route) (compiledRoute, error) {
	if r.From != Any {
		if _, ok := p.peers[r.From]; !ok {
			return compiledRoute{}, fmt.Errorf("from: no peer is named %q", r.From)
		}
	}
	t, isName, err := ParseTo(r.To)
	if err != nil {
		return compiledRoute{}, fmt.Errorf("to: %v", err)
	}
	if isName {
		peer, ok := p.peers[r.To]
		if !ok {
			return compiledRoute{}, fmt.Errorf("to: no peer is named %q", r.To)
		}
		if peer.Address == "" {
			return compiledRoute{}, fmt.Errorf("to: peer %s has no address", peer.Name)
		}
		host, port, _ := SplitPeerAddress(peer.Address) // checked by normalizePeer
		t = Target{Kind: TargetPeer, Peer: peer, Host: host, Port: port, Transport: peer.Transport}
	}
	return compiledRoute{Route: r, target: t}, nil
}

// Classify names the peer a message from src came from: the configured
// peer with the most specific network containing src, or else the unknown
// peer (an end-point with NAT detection on).
func (p *Policy) Classify(src netip.Addr) Peer {
	src = src.Unmap().WithZone("")
	for _, pp := range p.prefixes {
		if pp.prefix.Contains(src) {
			return pp.peer
		}
	}
	return Peer{Role: RoleEndpoint, NAT: NATAuto}
}

// Peer returns the configured peer with that name.
func (p *Policy) Peer(name string) (Peer, bool) {
	peer, ok := p.peers[name]
	return peer, ok && name != ""
}

// MaxCalls is the bound on concurrent calls; 0 means none.
func (p *Policy) MaxCalls() int { return p.maxCalls }
