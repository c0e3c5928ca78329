package resolve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"
)

// negativeTTL is how long "no such record" is kept when the answer carries
// no SOA to say (RFC 2308 §5 uses the SOA's minimum; most hosts have no
// NAPTR, and asking again for every call would put DNS on the call path).
const negativeTTL = 30 * time.Second

// Client asks recursive DNS servers over UDP, and over TCP when an answer
// is truncated.
type Client struct {
	servers []string
	udp     *dns.Client
	tcp     *dns.Client
}

// NewClient asks servers (host:port); none means those of
// /etc/resolv.conf.
func NewClient(servers []string) (*Client, error) {
	if len(servers) == 0 {
		conf, err := dns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil {
			return nil, fmt.Errorf("DNS servers: %w", err)
		}
		for _, s := range conf.Servers {
			servers = append(servers, net.JoinHostPort(s, conf.Port))
		}
	}
	if len(servers) == 0 {
		return nil, errors.New("DNS servers: none configured")
	}
	return &Client{servers: servers, udp: &dns.Client{Net: "udp"}, tcp: &dns.Client{Net: "tcp"}}, nil
}

// NAPTR implements DNS.
func (c *Client) NAPTR(ctx context.Context, name string) ([]NAPTR, time.Duration, error) {
	m, err := c.ask(ctx, name, dns.TypeNAPTR)
	if err != nil {
		return nil, 0, err
	}
	var out []NAPTR
	for _, rr := range m.Answer {
		if n, ok := rr.(*dns.NAPTR); ok {
			out = append(out, NAPTR{Order: n.Order, Preference: n.Preference, Flags: n.Flags, Service: n.Service, Replacement: n.Replacement})
		}
	}
	return out, answerTTL(m), nil
}

// SRV implements DNS.
func (c *Client) SRV(ctx context.Context, name string) ([]SRV, time.Duration, error) {
	m, err := c.ask(ctx, name, dns.TypeSRV)
	if err != nil {
		return nil, 0, err
	}
	var out []SRV
	for _, rr := range m.Answer {
		if s, ok := rr.(*dns.SRV); ok {
			out = append(out, SRV{Priority: s.Priority, Weight: s.Weight, Port: s.Port, Target: s.Target})
		}
	}
	return out, answerTTL(m), nil
}

// IP implements DNS: the A, then the AAAA addresses of name.
func (c *Client) IP(ctx context.Context, name string) ([]netip.Addr, time.Duration, error) {
	var out []netip.Addr
	ttl := time.Duration(-1)
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		m, err := c.ask(ctx, name, t)
		if err != nil {
			return nil, 0, err
		}
		for _, rr := range m.Answer {
			switch a := rr.(type) {
			case *dns.A:
				out = appendAddr(out, a.A)
			case *dns.AAAA:
				out = appendAddr(out, a.AAAA)
			}
		}
		if t := answerTTL(m); ttl < 0 || t < ttl {
			ttl = t
		}
	}
	return out, ttl, nil
}

func appendAddr(out []netip.Addr, ip net.IP) []netip.Addr {
	if a, ok := netip.AddrFromSlice(ip); ok {
		out = append(out, a.Unmap())
	}
	return out
}

// ask sends one question to each server in turn until one answers. A name
// that does not exist is an answer (empty), a server failure is not.
func (c *Client) ask(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.RecursionDesired = true
	var errs []error
	for _, srv := range c.servers {
		m, _, err := c.udp.ExchangeContext(ctx, q, srv)
		if err == nil && m.Truncated {
			m, _, err = c.tcp.ExchangeContext(ctx, q, srv)
		}
		if err == nil && m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError {
			err = fmt.Errorf("%s", dns.RcodeToString[m.Rcode])
		}
		if err == nil {
			return m, nil
		}
		errs = append(errs, fmt.Errorf("%s %s at %s: %w", dns.TypeToString[qtype], name, srv, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// answerTTL is how long m may be kept: the lowest TTL of its answer
// records, or for an empty answer the SOA's negative TTL (RFC 2308 §5).
func answerTTL(m *dns.Msg) time.Duration {
	ttl := int64(-1)
	for _, rr := range m.Answer {
		if t := int64(rr.Header().Ttl); ttl < 0 || t < ttl {
			ttl = t
		}
	}
	if ttl >= 0 {
		return time.Duration(ttl) * time.Second
	}
	for _, rr := range m.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return time.Duration(min(soa.Hdr.Ttl, soa.Minttl)) * time.Second
		}
	}
	return negativeTTL
}
