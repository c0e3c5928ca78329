package configs

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/natsbc/natsbc/policy"
	"gopkg.in/yaml.v3"
)

// decoder walks a yaml.Node tree by hand so that every unknown key, wrong
// type and unparsable value is reported with its line and column, all at
// once, instead of stopping at the first like yaml.Decoder does.
type decoder struct {
	file string
	pos  map[string]position
	errs problems
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.errs.add(&Error{File: d.file, Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf(format, args...), key: path})
}

// resolve follows aliases (*name) to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// mapping decodes a map whose keys are known in fields. A null map is an
// absent section. where names the map in "unknown key" messages.
func (d *decoder) mapping(n *yaml.Node, path string, fields map[string]func(*yaml.Node, string)) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a map, got %s", kindName(n))
		return
	}
	d.pos[path] = position{line: n.Line, col: n.Column}
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "expected a key, got %s", kindName(k))
			continue
		}
		field, ok := fields[k.Value]
		if !ok {
			where := " in " + path
			if path == "" {
				where = " at the top level"
			}
			d.fail(k, "", "unknown key %q%s", k.Value, where)
			d.errs[len(d.errs)-1].key = joinPath(path, k.Value)
			continue
		}
		if line, dup := seen[k.Value]; dup {
			d.fail(k, path, "key %q given twice (first on line %d)", k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		child := joinPath(path, k.Value)
		rv := resolve(v)
		d.pos[child] = position{line: rv.Line, col: rv.Column}
		field(rv, child)
	}
}

// list decodes a sequence, calling item for each element. A null list
// leaves the target alone and reports false.
func (d *decoder) list(n *yaml.Node, path string, item func(i int, n *yaml.Node, path string)) bool {
	n = resolve(n)
	if isNull(n) {
		return false
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "expected a list, got %s", kindName(n))
		return false
	}
	for i, c := range n.Content {
		c = resolve(c)
		p := fmt.Sprintf("%s[%d]", path, i)
		d.pos[p] = position{line: c.Line, col: c.Column}
		item(i, c, p)
	}
	return true
}

// scalar returns the text of a scalar; ok is false (and a problem is
// recorded) for maps and lists, and false without a problem for null.
func (d *decoder) scalar(n *yaml.Node, path string) (string, bool) {
	if isNull(n) {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "expected a single value, got %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) str(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if s, ok := d.scalar(n, path); ok {
			*dst = s
		}
	}
}

func (d *decoder) integer(dst *int) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		s, ok := d.scalar(n, path)
		if !ok {
			return
		}
		var v int
		if n.Tag != "!!int" || n.Decode(&v) != nil {
			d.fail(n, path, "%q is not an integer", s)
			return
		}
		*dst = v
	}
}

func (d *decoder) duration(dst *time.Duration) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		s, ok := d.scalar(n, path)
		if !ok {
			return
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			d.fail(n, path, "%q is not a duration like 500ms, 4s or 1m30s", s)
			return
		}
		*dst = v
	}
}

func (d *decoder) addrPort(dst *netip.AddrPort) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		s, ok := d.scalar(n, path)
		if !ok {
			return
		}
		ap, err := parseAddrPort(s)
		if err != nil {
			d.fail(n, path, "%v", err)
			return
		}
		*dst = ap
	}
}

func (d *decoder) addr(dst *netip.Addr) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		s, ok := d.scalar(n, path)
		if !ok {
			return
		}
		a, err := parseAddr(s)
		if err != nil {
			d.fail(n, path, "%v", err)
			return
		}
		*dst = a
	}
}

// parseAddrPort reads a listen address: an IP (not a host name: a socket
// binds to an address) and a port, IPv6 in brackets.
func parseAddrPort(s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err == nil {
		return ap, nil
	}
	host, port, serr := splitHostPort(s)
	switch {
	case serr != nil:
		return netip.AddrPort{}, fmt.Errorf("%q is not IP:PORT (IPv6 in brackets: [::]:5060)", s)
	case !isIP(host):
		return netip.AddrPort{}, fmt.Errorf("%q: %q is not an IP address", s, host)
	case strings.Count(s, ":") > 1 && !strings.HasPrefix(s, "["):
		return netip.AddrPort{}, fmt.Errorf("%q: an IPv6 address needs brackets: [%s]:%s", s, host, port)
	default:
		return netip.AddrPort{}, fmt.Errorf("%q: port %q is not in 1..65535", s, port)
	}
}

func splitHostPort(s string) (host, port string, err error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", "", fmt.Errorf("no port")
	}
	host, port = s[:i], s[i+1:]
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return host, port, nil
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// parseAddr reads an IP, allowing IPv6 in brackets as people write it.
func parseAddr(s string) (netip.Addr, error) {
	t := s
	if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
		t = t[1 : len(t)-1]
	}
	a, err := netip.ParseAddr(t)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", s)
	}
	return a, nil
}

// parseNetwork reads a peer network: a CIDR prefix, or one IP meaning
// just that host.
func parseNetwork(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := parseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix", s)
	}
	if p != p.Masked() {
		return netip.Prefix{}, fmt.Errorf("%q has bits set after the prefix length; did you mean %s?", s, p.Masked())
	}
	return p, nil
}

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
				"max_message_size": d.integer(&c.SIP.MaxMessageSize),
				"user_agent":       d.str(&c.SIP.UserAgent),
			})
		},
		"shutdown": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]func(*yaml.Node, string){
				"drain_timeout": d.duration(&c.Shutdown.DrainTimeout),
			})
		},
		"limits": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]func(*yaml.Node, string){
				"max_calls": d.integer(&c.Limits.MaxCalls),
			})
		},
		"listen": func(n *yaml.Node, p string) { d.listen(n, p, c) },
		"peers":  func(n *yaml.Node, p string) { d.peers(n, p, c) },
		"routes": func(n *yaml.Node, p string) { d.routes(n, p, c) },
	})
}

func (d *decoder) listen(n *yaml.Node, path string, c *Config) {
	d.list(n, path, func(i int, n *yaml.Node, p string) {
		e := ListenEntry{Name: "listen" + strconv.Itoa(i+1), Transport: "both"}
		d.mapping(n, p, map[string]func(*yaml.Node, string){
			"name":      d.str(&e.Name),
			"address":   d.addrPort(&e.Address),
			"transport": d.str(&e.Transport),
			"advertise": d.addr(&e.Advertise),
		})
		c.Sockets = append(c.Sockets, e)
	})
}

func (d *decoder) peers(n *yaml.Node, path string, c *Config) {
	d.list(n, path, func(i int, n *yaml.Node, p string) {
		peer := policy.Peer{Transport: "udp", Role: policy.RoleEndpoint, NAT: policy.NATAuto}
		var role, nat string
		d.mapping(n, p, map[string]func(*yaml.Node, string){
			"name": d.str(&peer.Name),
			"networks": func(n *yaml.Node, p string) {
				d.list(n, p, func(_ int, n *yaml.Node, p string) {
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
					peer.Networks = append(peer.Networks, pfx)
				})
			},
			"address":   d.str(&peer.Address),
			"transport": d.str(&peer.Transport),
			"role":      d.str(&role),
			"nat":       d.str(&nat),
		})
		if role != "" {
			peer.Role = policy.Role(role)
		}
		if nat != "" {
			peer.NAT = policy.NATMode(nat)
		}
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
