package sbc

import (
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/policy"
)

// bLegRequestURI is the Request-URI of the B-leg INVITE. The caller's is
// kept whenever routing allows, because a PBX that challenged the caller
// checks the digest uri against it (RFC 2617 §3.2.2.5): when routing by the
// Request-URI; for a tel: URI (RFC 3966: no host to point elsewhere, and
// the number must reach the far side); and when the URI already names the
// target peer (its domains, address host or networks, policy.Peer.NamedBy)
// or a fixed route address. Otherwise the caller's URI names a host that
// is not where the call goes, and natsbc points it at the next hop, keeping
// the dialled user and its parameters (user=phone among them).
func bLegRequestURI(ruri sip.Uri, t policy.Target) sip.Uri {
	if t.Kind == policy.TargetRequestURI || ruri.Scheme == "tel" || namesTarget(ruri, t) {
		return *ruri.Clone()
	}
	out := sip.Uri{Scheme: "sip", User: ruri.User, Host: t.Host, Port: t.Port}
	if ruri.UriParams.Length() > 0 {
		out.UriParams = sip.NewParams()
		for _, kv := range ruri.UriParams {
			if !routingParam(kv.K) {
				out.UriParams = append(out.UriParams, kv)
			}
		}
	}
	return out
}

// namesTarget reports whether the caller's URI already points at t.
func namesTarget(ruri sip.Uri, t policy.Target) bool {
	host := strings.Trim(ruri.Host, "[]")
	if strings.EqualFold(host, strings.Trim(t.Host, "[]")) && (ruri.Port == 0 || t.Port == 0 || ruri.Port == t.Port) {
		return true
	}
	return t.Kind == policy.TargetPeer && t.Peer.NamedBy(host)
}

// routingParam lists URI parameters that say how to reach the URI's host
// (RFC 3261 §19.1.1): meaningless once the host is replaced.
func routingParam(k string) bool {
	switch strings.ToLower(k) {
	case "transport", "maddr", "ttl", "lr", "method":
		return true
	}
	return false
}
