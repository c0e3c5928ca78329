package configs

import (
	"net/netip"

	"gopkg.in/yaml.v3"

	"github.com/natsbc/natsbc/ingress"
)

// security decodes the `security:` section (the ingress shield).
func (d *decoder) security(n *yaml.Node, path string, s *SecurityConfig) {
	d.mapping(n, path, map[string]func(*yaml.Node, string){
		"deny":                d.networks(&s.Deny),
		"allow":               d.networks(&s.Allow),
		"rate":                d.integer(&s.Rate),
		"burst":               d.integer(&s.Burst),
		"peer_rate":           d.integer(&s.PeerRate),
		"peer_burst":          d.integer(&s.PeerBurst),
		"ban_after":           d.integer(&s.BanAfter),
		"ban_time":            d.duration(&s.BanTime),
		"max_sources":         d.integer(&s.MaxSources),
		"auth_failures":       d.integer(&s.AuthFailures),
		"auth_window":         d.duration(&s.AuthWindow),
		"unproven_credit":     d.integer(&s.UnprovenCredit),
		"real_source_header":  d.str(&s.RealSourceHeader),
		"tcp_max_connections": d.integer(&s.TCPMaxConnections),
		"tcp_max_per_source":  d.integer(&s.TCPMaxPerSource),
		"tcp_idle_timeout":    d.duration(&s.TCPIdleTimeout),
		"tcp_header_timeout":  d.duration(&s.TCPHeaderTimeout),
		"scanners": func(n *yaml.Node, p string) {
			s.Scanners = []string{}
			d.list(n, p, func(_ int, n *yaml.Node, p string) {
				if v, ok := d.scalar(n, p); ok {
					s.Scanners = append(s.Scanners, v)
				}
			})
		},
	})
}

// networks decodes a list of CIDRs (a bare address is its /32 or /128).
func (d *decoder) networks(dst *[]netip.Prefix) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		d.list(n, path, func(_ int, n *yaml.Node, p string) {
			s, ok := d.scalar(n, p)
			if !ok {
				if isNull(n) {
					d.fail(n, p, "empty network")
				}
				return
			}
			pfx, err := parseNetwork(s)
			if err != nil {
				d.fail(n, p, "%v", err)
				return
			}
			*dst = append(*dst, pfx)
		})
	}
}

// endpoints decodes a listener's `endpoints`: any, none, or a list of
// CIDRs.
func (d *decoder) endpoints(e *ingress.Endpoints) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if n.Kind == yaml.SequenceNode {
			e.Restricted = true
			d.networks(&e.Nets)(n, path)
			return
		}
		s, ok := d.scalar(n, path)
		if !ok {
			return
		}
		switch s {
		case "any":
			e.Restricted = false
		case "none":
			e.Restricted = true
		default:
			d.fail(n, path, "%q is not any, none or a list of networks", s)
		}
	}
}
