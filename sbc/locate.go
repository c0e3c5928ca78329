package sbc

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/resolve"
)

// Locator finds the servers of a SIP URI (RFC 3263): resolve.Resolver in
// production, a table in tests.
type Locator interface {
	Locate(ctx context.Context, q resolve.Query) ([]resolve.Target, error)
}

// hop is one place natsbc can send a request to, with its own socket that
// faces it.
type hop struct {
	dst       netip.AddrPort
	transport string // "UDP" | "TCP"
	sock      *socket
	adv       netip.AddrPort
}

var (
	errUnresolved = errors.New("next hop not resolved")
	errOwnAddress = errors.New("next hop is natsbc itself")
)

// locate resolves a next hop into the addresses natsbc can reach, in the
// order RFC 3263 §4.3 tries them. Addresses of natsbc itself (a loop, RFC
// 3261 §16.3 item 4 spirit) and those no socket of natsbc faces (an IPv6
// address with only IPv4 sockets, a transport natsbc does not listen on)
// are left out.
func (s *Server) locate(q resolve.Query) ([]hop, error) {
	ctx, cancel := context.WithTimeout(s.base, 2*s.conf().T2)
	defer cancel()
	targets, err := s.locator.Locate(ctx, q)
	if err != nil {
		return nil, errors.Join(errUnresolved, err)
	}
	var hops []hop
	own := 0
	for _, t := range targets {
		if s.isOwnAddress(t.Addr) {
			own++
			continue
		}
		sock, adv, err := s.facing(t.Transport, t.Addr.Addr())
		if err != nil {
			continue
		}
		hops = append(hops, hop{dst: t.Addr, transport: strings.ToUpper(t.Transport), sock: sock, adv: adv})
	}
	if len(hops) == 0 && own > 0 {
		return nil, errOwnAddress
	}
	if len(hops) == 0 {
		return nil, errUnresolved
	}
	return hops, nil
}

// uriQuery is what RFC 3263 looks up for a URI: its host (its maddr
// parameter when present, §4), port and transport parameter.
func uriQuery(u sip.Uri) resolve.Query {
	tr, _ := u.UriParams.Get("transport")
	host := u.Host
	if maddr, ok := u.UriParams.Get("maddr"); ok && maddr != "" {
		host = maddr
	}
	return resolve.Query{Host: host, Port: u.Port, Transport: lower(tr)}
}

// defaultLocator asks the DNS servers of /etc/resolv.conf. Without them
// only IP addresses can be routed to, which is said once at start.
func defaultLocator(log interface{ Warn(string, ...any) }) Locator {
	c, err := resolve.NewClient(nil)
	if err != nil {
		log.Warn("no DNS: host names in routes and Record-Route cannot be resolved", "error", err)
		return resolve.New(noDNS{}, resolve.Options{})
	}
	return resolve.New(c, resolve.Options{})
}

type noDNS struct{}

var errNoDNS = errors.New("no DNS servers")

func (noDNS) NAPTR(context.Context, string) ([]resolve.NAPTR, time.Duration, error) {
	return nil, 0, errNoDNS
}

func (noDNS) SRV(context.Context, string) ([]resolve.SRV, time.Duration, error) {
	return nil, 0, errNoDNS
}

func (noDNS) IP(context.Context, string) ([]netip.Addr, time.Duration, error) {
	return nil, 0, errNoDNS
}
