package configs

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/natsbc/natsbc/policy"
)

// Overrides are the command-line flags that change a loaded config.
type Overrides struct {
	// Listen replaces the listen list: IP:PORT (UDP and TCP),
	// udp:IP:PORT or tcp:IP:PORT.
	Listen []string
	// PBX (HOST:PORT) creates or replaces the peer named "pbx".
	PBX string
	// Advertise entries are VALUE (every socket) or LISTEN=VALUE (the
	// socket with that name or address), VALUE being a public IP or
	// stun:HOST[:PORT] (natsbc learns its public IP from that STUN server).
	Advertise []string
	LogFormat string
	LogLevel  string
	// StateFile, when set, replaces registrations.state_file ("" keeps
	// registrations in memory only).
	StateFile *string
}

// ParseListen reads one --listen value, or several separated by commas:
// IP:PORT (UDP and TCP), udp:IP:PORT or tcp:IP:PORT, IPv6 in brackets.
// Names are left empty for the caller to give.
func ParseListen(s string) ([]ListenEntry, error) {
	var out []ListenEntry
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		e := ListenEntry{Transport: "both"}
		for _, network := range []string{"udp", "tcp"} {
			if rest, ok := strings.CutPrefix(item, network+":"); ok {
				e.Transport, item = network, rest
				break
			}
		}
		ap, err := parseAddrPort(item)
		if err != nil {
			return nil, err
		}
		if ap.Port() == 0 {
			return nil, fmt.Errorf("%q: port 0 is not allowed: peers need a known port", item)
		}
		e.Address = ap
		out = append(out, e)
	}
	return out, nil
}

// Apply changes c as the flags in o ask, then validates the result. File
// values a flag replaced are forgotten; problems with flag values name the
// flag.
func (c *Config) Apply(o Overrides) error {
	var errs problems
	flagErr := func(flag, format string, args ...any) {
		errs.add(&Error{Flag: flag, Msg: fmt.Sprintf(format, args...)})
	}
	if c.pos == nil {
		c.pos = make(map[string]position)
	}
	if o.LogLevel != "" {
		c.Log.Level = o.LogLevel
		c.pos["log.level"] = position{flag: "--log-level"}
	}
	if o.LogFormat != "" {
		c.Log.Format = o.LogFormat
		c.pos["log.format"] = position{flag: "--log-format"}
	}
	if len(o.Listen) > 0 {
		var sockets []ListenEntry
		for _, s := range o.Listen {
			es, err := ParseListen(s)
			if err != nil {
				flagErr("--listen", "%v", err)
				continue
			}
			sockets = append(sockets, es...)
		}
		c.forget("listen")
		c.pos["listen"] = position{flag: "--listen"}
		for i := range sockets {
			sockets[i].Name = "listen" + strconv.Itoa(i+1)
		}
		c.Sockets = sockets
	}
	if o.PBX != "" {
		if err := c.applyPBX(o.PBX); err != nil {
			flagErr("--pbx", "%v", err)
		}
	}
	if o.StateFile != nil {
		c.Registrations.StateFile = *o.StateFile
		c.pos["registrations.state_file"] = position{flag: "--state-file"}
	}
	for _, a := range o.Advertise {
		if err := c.applyAdvertise(a); err != nil {
			flagErr("--advertise", "%v", err)
		}
	}
	if len(errs) > 0 {
		return errs.err()
	}
	return c.Validate()
}

// forget drops the file positions of a replaced value and all inside it.
func (c *Config) forget(path string) {
	for p := range c.pos {
		if within(p, path) {
			delete(c.pos, p)
		}
	}
}

// applyPBX makes the peer "pbx" the one at hostport. An IP identifies the
// PBX by its source; a host name cannot, so networks stay empty.
func (c *Config) applyPBX(hostport string) error {
	host, _, err := policy.SplitHostPort(hostport)
	if err != nil {
		return err
	}
	peer := policy.Peer{Name: "pbx", Address: hostport, Transport: "udp", Role: policy.RolePBX, NAT: policy.NATAuto, Latch: policy.LatchStrict, Redirect: policy.RedirectFollow}
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap().WithZone("")
		peer.Networks = []netip.Prefix{netip.PrefixFrom(ip, ip.BitLen())}
	}
	i := len(c.Peers)
	for j, p := range c.Peers {
		if p.Name == "pbx" {
			i = j
		}
	}
	if i == len(c.Peers) {
		c.Peers = append(c.Peers, peer)
	} else {
		c.Peers[i] = peer
		if i < len(c.PeerTLS) {
			c.PeerTLS[i] = nil // the flag's PBX is a UDP one
		}
	}
	p := fmt.Sprintf("peers[%d]", i)
	c.forget(p)
	c.pos[p] = position{flag: "--pbx"}
	return nil
}

// applyAdvertise handles VALUE or LISTEN=VALUE, LISTEN being a socket's
// name or its address as written (IP:PORT), VALUE an IP or
// stun:HOST[:PORT].
func (c *Config) applyAdvertise(s string) error {
	target, value, named := strings.Cut(s, "=")
	if !named {
		target, value = "", s
	}
	ip, stun, err := parseAdvertise(value)
	if err != nil {
		return err
	}
	matched := false
	for i := range c.Sockets {
		l := &c.Sockets[i]
		if named && target != l.Name && target != l.Address.String() {
			continue
		}
		l.Advertise, l.AdvertiseSTUN = ip, stun
		p := fmt.Sprintf("listen[%d].advertise", i)
		c.pos[p] = position{flag: "--advertise"}
		matched = true
	}
	if !matched {
		return fmt.Errorf("%q: no listen socket is named or bound to %q", s, target)
	}
	return nil
}
