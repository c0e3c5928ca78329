package resolve

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// maxTargets bounds what one lookup returns, so a hostile or broken zone
// cannot make one call try hundreds of addresses.
const maxTargets = 16

// ErrNotFound: the name has no SIP server (no NAPTR, SRV nor address).
var ErrNotFound = errors.New("no SIP server found")

// transports natsbc speaks, in the order it prefers them when there is no
// NAPTR (RFC 3263 §4.1: "those transport protocols it supports").
var transports = []string{"udp", "tcp"}

// naptrServices maps RFC 3263 §4.1 NAPTR services onto transports.
// natsbc goes TLS only to peers configured with transport: tls, so a
// name's SIPS+D2T records are skipped.
var naptrServices = map[string]string{"SIP+D2U": "udp", "SIP+D2T": "tcp"}

// srvPrefix is the SRV owner name prefix of a transport (RFC 3263 §4.2;
// TLS is "_sips._tcp", RFC 3263 §4.1): a tls peer named without a port is
// located by it.
var srvPrefix = map[string]string{"udp": "_sip._udp.", "tcp": "_sip._tcp.", "tls": "_sips._tcp."}

// Locate returns the targets of q, in the order to try them.
func (r *Resolver) Locate(ctx context.Context, q Query) ([]Target, error) {
	host := strings.TrimSuffix(strings.Trim(q.Host, "[]"), ".")
	tr := strings.ToLower(q.Transport)
	if tr != "" && srvPrefix[tr] == "" {
		return nil, fmt.Errorf("transport %q not supported", q.Transport)
	}
	port := q.Port
	// §4.1/§4.2: a numeric host is used as it is; UDP unless told, 5060.
	if ip, err := netip.ParseAddr(host); err == nil {
		return []Target{{Transport: cmp.Or(tr, "udp"), Addr: netip.AddrPortFrom(ip.Unmap(), uint16(cmp.Or(port, 5060))), Host: host}}, nil
	}
	if host == "" {
		return nil, errors.New("no host")
	}
	// §4.2: an explicit port means A/AAAA only, and UDP unless told (§4.1).
	if port != 0 {
		return r.addresses(ctx, nil, cmp.Or(tr, "udp"), host, port)
	}
	var out []Target
	if tr != "" {
		// §4.1: the transport is given, NAPTR is skipped; §4.2: SRV of it.
		out, err := r.srv(ctx, out, tr, srvPrefix[tr]+host)
		if err != nil || len(out) > 0 {
			return out, err
		}
		return r.addresses(ctx, nil, tr, host, 5060)
	}
	recs, err := r.naptr(ctx, host)
	if err != nil {
		return nil, err
	}
	if len(recs) > 0 {
		// §4.1: the NAPTR records' SRV names, in order and preference.
		for _, n := range recs {
			if out, err = r.srv(ctx, out, naptrServices[n.Service], n.Replacement); err != nil {
				return out, err
			}
		}
	} else {
		// §4.1: no NAPTR: SRV for each transport natsbc supports.
		for _, t := range transports {
			if out, err = r.srv(ctx, out, t, srvPrefix[t]+host); err != nil {
				return out, err
			}
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	// §4.2: no SRV: the host's addresses at 5060 over UDP.
	return r.addresses(ctx, nil, "udp", host, 5060)
}

// naptr returns the usable NAPTR records of host sorted by order, then
// preference (RFC 3403 §4.1): flag "s" and a service natsbc speaks.
func (r *Resolver) naptr(ctx context.Context, host string) ([]NAPTR, error) {
	recs, err := r.cachedNAPTR(ctx, host)
	if err != nil {
		return nil, err
	}
	var use []NAPTR
	for _, n := range recs {
		n.Service = strings.ToUpper(n.Service)
		if strings.EqualFold(n.Flags, "s") && naptrServices[n.Service] != "" && n.Replacement != "" && n.Replacement != "." {
			use = append(use, n)
		}
	}
	slices.SortStableFunc(use, func(a, b NAPTR) int {
		return cmp.Or(cmp.Compare(a.Order, b.Order), cmp.Compare(a.Preference, b.Preference))
	})
	return use, nil
}

// srv appends the targets of the SRV name, in RFC 2782 order.
func (r *Resolver) srv(ctx context.Context, out []Target, transport, name string) ([]Target, error) {
	recs, err := r.cachedSRV(ctx, name)
	if err != nil {
		return out, err
	}
	for _, s := range orderSRV(recs, r.rand) {
		if len(out) >= maxTargets {
			break
		}
		// RFC 2782: a target of "." means the service is not offered here.
		if s.Target == "" || s.Target == "." {
			continue
		}
		if out, err = r.addresses(ctx, out, transport, s.Target, int(s.Port)); err != nil {
			// An SRV target that cannot be resolved is skipped (§4.3:
			// try the next), unless nothing else comes.
			continue
		}
	}
	return out, nil
}

// addresses appends host's A and AAAA addresses at port.
func (r *Resolver) addresses(ctx context.Context, out []Target, transport, host string, port int) ([]Target, error) {
	host = strings.TrimSuffix(host, ".")
	ips, err := r.cachedIP(ctx, host)
	if err != nil {
		return out, err
	}
	if len(ips) == 0 && len(out) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, host)
	}
	for _, ip := range ips {
		if len(out) >= maxTargets {
			break
		}
		out = append(out, Target{Transport: transport, Addr: netip.AddrPortFrom(ip.Unmap(), uint16(port)), Host: host})
	}
	return out, nil
}
