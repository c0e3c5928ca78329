package nat

import (
	"errors"
	"fmt"
	"net/netip"
)

// Router tells which local address the kernel would use to reach dst, so
// that Via, Contact and SDP name the address that faces that peer.
type Router interface {
	SourceFor(dst netip.Addr) (netip.Addr, error)
}

// ErrNoRoute is returned when no local address faces a destination.
var ErrNoRoute = errors.New("nat: no route to destination")

// StaticRouter maps destination prefixes to local addresses; the most
// specific prefix containing the destination wins. It serves tests and
// hosts where netlink is unavailable.
type StaticRouter map[netip.Prefix]netip.Addr

// SourceFor returns the local address of the longest prefix containing dst.
func (s StaticRouter) SourceFor(dst netip.Addr) (netip.Addr, error) {
	dst = dst.WithZone("").Unmap()
	best, found := netip.Prefix{}, false
	for p := range s {
		if !p.Contains(dst) {
			continue
		}
		if !found || p.Bits() > best.Bits() {
			best, found = p, true
		}
	}
	if !found {
		return netip.Addr{}, fmt.Errorf("%w %s", ErrNoRoute, dst)
	}
	return s[best], nil
}

type fallbackRouter struct{ primary, fallback Router }

// Fallback asks primary and, when it fails, fallback.
func Fallback(primary Router, fallback Router) Router {
	return fallbackRouter{primary: primary, fallback: fallback}
}

func (f fallbackRouter) SourceFor(dst netip.Addr) (netip.Addr, error) {
	a, err := f.primary.SourceFor(dst)
	if err == nil {
		return a, nil
	}
	b, ferr := f.fallback.SourceFor(dst)
	if ferr != nil {
		return netip.Addr{}, errors.Join(err, ferr)
	}
	return b, nil
}
