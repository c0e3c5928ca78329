package configs

import (
	"fmt"
	"net/netip"

	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/policy"
)

// latchModes are the spellings of peers[].latching ("" means strict).
var latchModes = []string{policy.LatchStrict, policy.LatchRelaxed, policy.LatchSRTPAuth}

// endpointLatchModes are the spellings of media.latching, for phones and
// other sources that are not configured peers: relaxed is for peers only.
var endpointLatchModes = []string{policy.LatchStrict, policy.LatchSRTPAuth}

// redirectModes are the spellings of peers[].redirect ("" means follow).
var redirectModes = []string{policy.RedirectFollow, policy.RedirectRelay}

// largeRequestModes are the spellings of peers[].large_requests ("" means tcp).
var largeRequestModes = []string{policy.LargeRequestsTCP, policy.LargeRequestsUDP}

func (k *checker) checkPeers(peers []policy.Peer) {
	names := make(map[string]int)
	owner := make(map[netip.Prefix]int)
	for i, peer := range peers {
		p := fmt.Sprintf("peers[%d]", i)
		if err := policy.CheckName(peer.Name); err != nil {
			k.fail(p+".name", "%v", err)
		} else if j, dup := names[peer.Name]; dup {
			k.fail(p+".name", "%q is already the name of peers[%d]", peer.Name, j)
		} else {
			names[peer.Name] = i
		}
		if _, err := policy.ParseRole(string(peer.Role)); err != nil {
			k.fail(p+".role", "%v", err)
		}
		if _, err := policy.ParseNATMode(string(peer.NAT)); err != nil {
			k.fail(p+".nat", "%v", err)
		}
		k.securityMode(p+".srtp", peer.SRTP)
		if peer.Latch != "" {
			k.oneOf(p+".latching", peer.Latch, latchModes)
		}
		if peer.Redirect != "" {
			k.oneOf(p+".redirect", peer.Redirect, redirectModes)
		}
		if peer.MaxCalls < 0 {
			k.fail(p+".max_calls", "%d is negative (0 means no limit)", peer.MaxCalls)
		}
		if peer.MaxCPS < 0 {
			k.fail(p+".max_cps", "%d is negative (0 means no limit)", peer.MaxCPS)
		}
		if peer.LargeRequests != "" {
			k.oneOf(p+".large_requests", peer.LargeRequests, largeRequestModes)
		}
		if _, err := policy.ParseTransport(peer.Transport); err != nil {
			k.fail(p+".transport", "%v", err)
		}
		if peer.Address != "" {
			if _, _, err := policy.SplitPeerAddress(peer.Address); err != nil {
				k.fail(p+".address", "%v", err)
			}
		}
		for j, dom := range peer.Domains {
			if err := policy.CheckDomain(dom); err != nil {
				k.fail(fmt.Sprintf("%s.domains[%d]", p, j), "%v", err)
			}
		}
		for j, pfx := range peer.Networks {
			np := fmt.Sprintf("%s.networks[%d]", p, j)
			switch {
			case !pfx.IsValid():
				k.fail(np, "not a valid network")
			case pfx != pfx.Masked():
				k.fail(np, "%s has bits set after the prefix length", pfx)
			default:
				if o, dup := owner[pfx]; dup {
					k.fail(np, "%s already identifies peers[%d] (%s)", pfx, o, peers[o].Name)
				} else {
					owner[pfx] = i
				}
			}
		}
	}
}

func (k *checker) checkRoutes(routes []policy.Route, peers []policy.Peer) {
	byName := make(map[string]policy.Peer)
	for _, peer := range peers {
		byName[peer.Name] = peer
	}
	first := make(map[string]int) // from → index of the first route with it
	for i, r := range routes {
		p := fmt.Sprintf("routes[%d]", i)
		switch _, known := byName[r.From]; {
		case r.From == "":
			k.fail(p+".from", `a peer name or "*" is required`)
		case r.From != policy.Any && !known:
			k.fail(p+".from", "no peer is named %q", r.From)
		}
		if j, ok := first[policy.Any]; ok {
			k.fail(p, "can never match: routes[%d] (from \"*\") catches every source first", j)
		} else if j, ok := first[r.From]; ok && r.From != "" {
			k.fail(p, "can never match: routes[%d] has the same from %q", j, r.From)
		}
		if _, ok := first[r.From]; !ok {
			first[r.From] = i
		}
		if r.To == "" {
			k.fail(p+".to", "a peer name, request-uri or [udp:|tcp:]HOST:PORT is required")
			continue
		}
		to, isName, err := policy.ParseTo(r.To)
		switch peer, known := byName[r.To]; {
		case err != nil:
			k.fail(p+".to", "%v", err)
		case to.Transport == "tls" && !isName:
			// natsbc opens TLS only with a peer's CA, name and certificate.
			k.fail(p+".to", "%q: name a peer with transport: tls instead", r.To)
		case isName && !known:
			k.fail(p+".to", "no peer is named %q", r.To)
		case isName && peer.Address == "":
			k.fail(p+".to", "peer %q has no address to send to", r.To)
		}
	}
}

// securityMode checks a media.srtp spelling ("" is allowed: the default).
func (k *checker) securityMode(path, v string) {
	if _, err := media.ParseSecurityMode(v); err != nil {
		k.fail(path, "%v", err)
	}
}
