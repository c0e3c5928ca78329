package policy

import (
	"fmt"
	"strings"
)

// Words with a fixed meaning in routes.
const (
	// Any in Route.From matches every source, configured peer or not.
	Any = "*"
	// ToRequestURI in Route.To sends the request where its Request-URI says.
	ToRequestURI = "request-uri"
)

// Route sends requests from one peer (or Any) to a destination. Routes are
// tried in order; the first whose From matches wins.
type Route struct {
	// From is a peer name or Any.
	From string
	// To is a peer name, ToRequestURI, HOST:PORT, udp:HOST:PORT or tcp:HOST:PORT.
	To string
}

func (r Route) String() string { return fmt.Sprintf("from %q to %s", r.From, r.To) }

// TargetKind says where a Target's address came from.
type TargetKind int

const (
	// TargetPeer: the address of a configured peer.
	TargetPeer TargetKind = iota + 1
	// TargetRequestURI: host, port and transport of the Request-URI.
	TargetRequestURI
	// TargetAddress: a fixed HOST:PORT written in the route.
	TargetAddress
)

func (k TargetKind) String() string {
	switch k {
	case TargetPeer:
		return "peer"
	case TargetRequestURI:
		return "request-uri"
	case TargetAddress:
		return "address"
	}
	return fmt.Sprintf("TargetKind(%d)", int(k))
}

// Target is where a request goes next.
type Target struct {
	Kind TargetKind
	// Peer is the destination peer for TargetPeer; zero otherwise.
	Peer Peer
	Host string
	// Port 0 and Transport "" mean "not given": the server is located by
	// RFC 3263 (NAPTR, SRV) from Host.
	Port      int
	Transport string
	// Rule names the route that matched, for logs: `route 2: from "*" to pbx`.
	Rule string
}

// RequestURI is the part of a Request-URI that routing looks at.
type RequestURI struct {
	Host string
	// Port 0 means the URI had none: the server is located by RFC 3263
	// (SRV for a host name, 5060 for an address).
	Port int
	// Transport is the transport URI parameter, "" when absent (RFC 3263
	// §4.1: NAPTR, or UDP for an address or an explicit port).
	Transport string
}

// DefaultRoutes is what a configuration without routes gets: the PBX's
// requests go where their Request-URI says, everything else goes to the
// PBX. Without a peer named "pbx" there is no sensible default.
func DefaultRoutes(peers []Peer) []Route {
	for _, p := range peers {
		if p.Name == "pbx" {
			return []Route{{From: "pbx", To: ToRequestURI}, {From: Any, To: "pbx"}}
		}
	}
	return nil
}

// ParseTo reads a route destination that is not a peer name: ToRequestURI,
// HOST:PORT, udp:HOST:PORT or tcp:HOST:PORT. isName is true when s has no
// colon and is not ToRequestURI, i.e. it must name a peer.
func ParseTo(s string) (t Target, isName bool, err error) {
	if s == ToRequestURI {
		return Target{Kind: TargetRequestURI}, false, nil
	}
	if !strings.Contains(s, ":") {
		return Target{}, true, CheckName(s)
	}
	transport := "udp"
	for _, prefix := range transports {
		if rest, ok := strings.CutPrefix(s, prefix+":"); ok {
			transport, s = prefix, rest
			break
		}
	}
	host, port, err := SplitHostPort(s)
	if err != nil {
		return Target{}, false, err
	}
	return Target{Kind: TargetAddress, Host: host, Port: port, Transport: transport}, false, nil
}

// Route picks the destination of a request from peer `from` whose
// Request-URI is ruri. The first route whose From matches wins; none
// matching gives ErrNoRoute.
func (p *Policy) Route(from Peer, ruri RequestURI) (Target, error) {
	for i, r := range p.routes {
		if r.From != Any && r.From != from.Name {
			continue
		}
		t := r.target
		t.Rule = fmt.Sprintf("route %d: %s", i+1, r.Route)
		switch t.Kind {
		case TargetRequestURI:
			return requestURITarget(t, ruri)
		case TargetPeer:
			if t.Peer.Address == "" {
				return Target{}, fmt.Errorf("%s: %w: %s", t.Rule, ErrNoAddress, t.Peer.Name)
			}
		}
		return t, nil
	}
	return Target{}, fmt.Errorf("%w request from %s", ErrNoRoute, peerLabel(from))
}

// requestURITarget fills t from the Request-URI. Port and transport stay
// empty when the URI has none: RFC 3263 locates the server then.
func requestURITarget(t Target, ruri RequestURI) (Target, error) {
	if ruri.Host == "" {
		return Target{}, fmt.Errorf("%s: %w: no host", t.Rule, ErrBadRequestURI)
	}
	if ruri.Port < 0 || ruri.Port > 65535 {
		return Target{}, fmt.Errorf("%s: %w: port %d", t.Rule, ErrBadRequestURI, ruri.Port)
	}
	t.Host, t.Port, t.Transport = ruri.Host, ruri.Port, ""
	if ruri.Transport != "" {
		tr, err := ParseTransport(strings.ToLower(ruri.Transport))
		if err != nil {
			return Target{}, fmt.Errorf("%s: %w: transport %v", t.Rule, ErrBadRequestURI, err)
		}
		t.Transport = tr
	}
	return t, nil
}

func peerLabel(p Peer) string {
	if !p.Known() {
		return "unknown peer"
	}
	return "peer " + p.Name
}
