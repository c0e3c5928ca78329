package sbc

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// requestTarget is the Request-URI and Route set of a request within a
// dialog (RFC 3261 §12.2.1.1). With a loose router first (;lr) the R-URI is
// the remote target and the Route set is sent as it is. With a strict
// router first (an RFC 2543 proxy: no ;lr) the R-URI is that router's URI,
// stripped of what a Request-URI may not carry, and the remote target goes
// at the end of the Route list, so the router can still find it.
func requestTarget(target sip.Uri, routes []sip.Uri) (sip.Uri, []sip.Uri) {
	if len(routes) == 0 || isLooseRoute(routes[0]) {
		return target, routes
	}
	ruri := *routes[0].Clone()
	// RFC 3261 §19.1.1, table 1: method and headers are not allowed in a
	// Request-URI.
	ruri.UriParams.Remove("method")
	ruri.Headers = nil
	rest := append(routes[1:len(routes):len(routes)], *target.Clone())
	return ruri, rest
}

// isLooseRoute reports whether a route URI has the lr parameter (RFC 3261
// §19.1.1), whatever its value (Kamailio writes ;lr=on).
func isLooseRoute(u sip.Uri) bool {
	for _, kv := range u.UriParams {
		if strings.EqualFold(kv.K, "lr") {
			return true
		}
	}
	return false
}
