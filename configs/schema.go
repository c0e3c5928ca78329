package configs

import (
	"math"
	"net/netip"
	"strconv"

	"github.com/natsbc/natsbc/certs"
	"github.com/natsbc/natsbc/policy"
	"gopkg.in/yaml.v3"
)

// decodeRoot fills c from the document's top node.
func (d *decoder) decodeRoot(root *yaml.Node, c *Config) {
	d.pos[""] = position{line: root.Line, col: root.Column}
	d.mapping(root, "", map[string]func(*yaml.Node, string){
		"log": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]func(*yaml.Node, string){
				"level":  d.str(&c.Log.Level),
				"format": d.str(&c.Log.Format),
			})
		},
		"sip": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]func(*yaml.Node, string){
				"t1":               d.duration(&c.SIP.T1),
				"t2":               d.duration(&c.SIP.T2),
				"t4":               d.duration(&c.SIP.T4),
				"timer_c":          d.duration(&c.SIP.TimerC),
				"max_message_size": d.integer(&c.SIP.MaxMessageSize),
				"user_agent":       d.str(&c.SIP.UserAgent),
				"session_expires":  d.duration(&c.SIP.SessionExpires),
				"min_se":           d.duration(&c.SIP.MinSE),
				"100rel":           d.boolean(&c.SIP.Rel100),
				"dns_servers": func(n *yaml.Node, p string) {
					d.list(n, p, func(_ int, n *yaml.Node, p string) {
						var ap netip.AddrPort
						if d.addrPort(&ap)(n, p); ap.IsValid() {
							c.SIP.DNSServers = append(c.SIP.DNSServers, ap)
						}
					})
				},
			})
		},
		"shutdown": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]func(*yaml.Node, string){
				"drain_timeout": d.duration(&c.Shutdown.DrainTimeout),
			})
		},
		"limits": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]func(*yaml.Node, string){
				"max_calls":                  d.integer(&c.Limits.MaxCalls),
				"max_calls_per_source":       d.integer(&c.Limits.MaxCallsPerSource),
				"max_transactions":           d.integer(&c.Limits.MaxTransactions),
				"max_relay_pairs_per_source": d.integer(&c.Limits.MaxRelayPairsPerSource),
			})
		},
		"registrations": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]func(*yaml.Node, string){
				"nat_expires":              d.duration(&c.Registrations.NATExpires),
				"token_secret":             d.str(&c.Registrations.TokenSecret),
				"state_file":               d.str(&c.Registrations.StateFile),
				"max_per_source":           d.integer(&c.Registrations.MaxPerSource),
				"max_in_flight_per_source": d.integer(&c.Registrations.MaxInFlightPerSource),
				"answer_qualify":           d.boolean(&c.Registrations.AnswerQualify),
			})
		},
		"keepalive": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]func(*yaml.Node, string){
				"method":     d.str(&c.Keepalive.Method),
				"interval":   d.duration(&c.Keepalive.Interval),
				"max_missed": d.integer(&c.Keepalive.MaxMissed),
			})
		},
		"nat": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]func(*yaml.Node, string){
				"stun_refresh": d.duration(&c.NAT.STUNRefresh),
			})
		},
		"media":    func(n *yaml.Node, p string) { d.media(n, p, &c.Relay) },
		"admin":    func(n *yaml.Node, p string) { d.admin(n, p, &c.Admin) },
		"listen":   func(n *yaml.Node, p string) { d.listen(n, p, c) },
		"peers":    func(n *yaml.Node, p string) { d.peers(n, p, c) },
		"routes":   func(n *yaml.Node, p string) { d.routes(n, p, c) },
		"security": func(n *yaml.Node, p string) { d.security(n, p, &c.Security) },
		"diagnosis": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]func(*yaml.Node, string){"keep_calls": d.integer(&c.Diagnosis.KeepCalls)})
		},
		"hep": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]func(*yaml.Node, string){
				"address": d.str(&c.HEP.Address),
				"capture_id": func(n *yaml.Node, p string) {
					id, failed := 0, len(d.errs)
					if d.integer(&id)(n, p); len(d.errs) > failed {
						return
					}
					if id < 0 || id > math.MaxUint32 {
						d.fail(n, p, "%d is not a 32-bit capture agent id", id)
						return
					}
					c.HEP.CaptureID = uint32(id)
				},
				"password": d.str(&c.HEP.Password),
			})
		},
		"cdr": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]func(*yaml.Node, string){"path": d.str(&c.CDR.Path)})
		},
	})
}

func (d *decoder) listen(n *yaml.Node, path string, c *Config) {
	d.list(n, path, func(i int, n *yaml.Node, p string) {
		e := ListenEntry{Name: "listen" + strconv.Itoa(i+1), Transport: "both",
			IdleTimeout: DefaultWSIdleTimeout, PingInterval: DefaultWSPingInterval}
		d.mapping(n, p, map[string]func(*yaml.Node, string){
			"name":      d.str(&e.Name),
			"address":   d.addrPort(&e.Address),
			"transport": d.str(&e.Transport),
			"advertise": d.advertise(&e.Advertise, &e.AdvertiseSTUN),
			"endpoints": d.endpoints(&e.Endpoints),
			"tls": func(n *yaml.Node, p string) {
				e.TLSSet = true
				d.listenTLS(&e.TLS)(n, p)
			},
			// RFC 7118 over RFC 6455: how long a silent WebSocket lives,
			// how often natsbc pings it.
			"idle_timeout": func(n *yaml.Node, p string) {
				e.WSKnobs = append(e.WSKnobs, "idle_timeout")
				d.duration(&e.IdleTimeout)(n, p)
			},
			"ping_interval": func(n *yaml.Node, p string) {
				e.WSKnobs = append(e.WSKnobs, "ping_interval")
				d.duration(&e.PingInterval)(n, p)
			},
			"allowed_origins": func(n *yaml.Node, p string) {
				e.WSKnobs = append(e.WSKnobs, "allowed_origins")
				e.AllowedOrigins = []string{}
				d.list(n, p, func(_ int, n *yaml.Node, p string) {
					if s, ok := d.scalar(n, p); ok {
						e.AllowedOrigins = append(e.AllowedOrigins, s)
					} else if isNull(n) {
						d.fail(n, p, "empty origin")
					}
				})
			},
			"srtp": d.str(&e.SRTP),
		})
		c.Sockets = append(c.Sockets, e)
	})
}

func (d *decoder) peers(n *yaml.Node, path string, c *Config) {
	d.list(n, path, func(i int, n *yaml.Node, p string) {
		peer := policy.Peer{Role: policy.RoleEndpoint, NAT: policy.NATAuto, Latch: policy.LatchStrict, Redirect: policy.RedirectFollow}
		var role, nat string
		var tlsc certs.Client
		trustSet, tlsSet := false, false
		d.mapping(n, p, map[string]func(*yaml.Node, string){
			"name":      d.str(&peer.Name),
			"networks":  d.networks(&peer.Networks),
			"address":   d.str(&peer.Address),
			"transport": d.str(&peer.Transport),
			"role":      d.str(&role),
			"nat":       d.str(&nat),
			"latching":  d.str(&peer.Latch),
			"keep_ice":  d.boolean(&peer.KeepICE),
			"srtp":      d.str(&peer.SRTP),
			"trust_identity": func(n *yaml.Node, p string) {
				trustSet = true
				d.boolean(&peer.TrustIdentity)(n, p)
			},
			"redirect": d.str(&peer.Redirect),
			"tls": func(n *yaml.Node, p string) {
				tlsSet = true
				d.peerTLS(&tlsc)(n, p)
			},
			"max_calls": d.integer(&peer.MaxCalls),
			"max_cps":   d.integer(&peer.MaxCPS),

			// RFC 3261 §18.1.1: how requests too large for UDP reach it.
			"large_requests": d.str(&peer.LargeRequests),
			"domains": func(n *yaml.Node, p string) {
				d.list(n, p, func(_ int, n *yaml.Node, p string) {
					if s, ok := d.scalar(n, p); ok {
						peer.Domains = append(peer.Domains, s)
					}
				})
			},
		})
		if role != "" {
			peer.Role = policy.Role(role)
		}
		if !trustSet {
			// The PBX natsbc fronts is inside the trust domain (RFC 3325
			// §2.3); everyone else must be trusted explicitly.
			peer.TrustIdentity = peer.Role == policy.RolePBX
		}
		if nat != "" {
			peer.NAT = policy.NATMode(nat)
		}
		var pt *certs.Client
		if tlsSet {
			pt = &tlsc
		}
		c.PeerTLS = append(c.PeerTLS[:len(c.Peers)], pt)
		c.Peers = append(c.Peers, peer)
	})
}

func (d *decoder) routes(n *yaml.Node, path string, c *Config) {
	routes := []policy.Route{}
	ok := d.list(n, path, func(_ int, n *yaml.Node, p string) {
		var r policy.Route
		d.mapping(n, p, map[string]func(*yaml.Node, string){
			"from": d.str(&r.From),
			"to":   d.str(&r.To),
		})
		routes = append(routes, r)
	})
	if ok {
		c.Routes = routes
	}
}
