package configs

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/natsbc/natsbc/certs"
	"github.com/natsbc/natsbc/policy"
)

// Bounds of the WebSocket knobs.
const (
	minWSTimer = time.Second
	maxWSIdle  = 24 * time.Hour
)

// checkListenTLS checks the `tls:` mapping and the WebSocket knobs of one
// listen entry, and reads its certificate files: a file that natsbc could
// not use at start fails here, at the line that names it.
func (k *checker) checkListenTLS(p string, l ListenEntry) {
	secure := l.Transport == "tls" || l.Transport == "wss"
	ws := l.Transport == "ws" || l.Transport == "wss"
	switch {
	case l.TLSSet && !secure:
		k.fail(p+".tls", "applies to transport tls or wss, not %s", orBoth(l.Transport))
	case secure:
		k.checkServerTLS(p+".tls", l.TLS)
	}
	for _, knob := range l.WSKnobs {
		if !ws {
			k.fail(p+"."+knob, "applies to transport ws or wss, not %s", orBoth(l.Transport))
		}
	}
	if !ws {
		return
	}
	k.checkOrigins(p+".allowed_origins", l.AllowedOrigins)
	if l.IdleTimeout < minWSTimer || l.IdleTimeout > maxWSIdle {
		k.fail(p+".idle_timeout", "%v is not in %v..%v", l.IdleTimeout, minWSTimer, maxWSIdle)
	}
	switch {
	case l.PingInterval < minWSTimer:
		k.fail(p+".ping_interval", "%v is shorter than %v", l.PingInterval, minWSTimer)
	case l.PingInterval >= l.IdleTimeout && !slices.Contains(l.WSKnobs, "ping_interval"):
		// The pongs are what keeps a live but quiet browser's connection.
		k.fail(p+".idle_timeout", "%v must be longer than ping_interval (%v): the pongs keep a live connection", l.IdleTimeout, l.PingInterval)
	case l.PingInterval >= l.IdleTimeout:
		k.fail(p+".ping_interval", "%v must be shorter than idle_timeout (%v): the pongs keep a live connection", l.PingInterval, l.IdleTimeout)
	}
}

// checkOrigins checks allowed_origins: each an origin as a browser sends
// it in Origin (RFC 6454 §6.2: scheme://host[:port], nothing after).
func (k *checker) checkOrigins(p string, origins []string) {
	if origins != nil && len(origins) == 0 {
		k.fail(p, "is empty: no browser could connect; leave it out to allow any origin")
	}
	for i, o := range origins {
		if err := checkOrigin(o); err != nil {
			k.fail(fmt.Sprintf("%s[%d]", p, i), "%q %v", o, err)
		}
	}
}

func checkOrigin(o string) error {
	u, err := url.Parse(o)
	switch {
	case err != nil || u.Opaque != "":
		return errors.New("is not an origin (https://host[:port])")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("is not an http or https origin (https://host[:port])")
	case u.Host == "" || u.Hostname() == "":
		return errors.New("has no host")
	case u.User != nil, u.Path != "", u.RawQuery != "", u.Fragment != "", strings.HasSuffix(o, "?"), strings.HasSuffix(o, "#"):
		return errors.New("is more than an origin: scheme://host[:port], no path, not even /")
	}
	return nil
}

func orBoth(t string) string {
	if t == "" {
		return "both"
	}
	return t
}

func (k *checker) checkServerTLS(p string, s certs.Server) {
	switch {
	case s.CertFile == "" && s.KeyFile == "":
		k.fail(p, "cert_file and key_file are required for TLS")
		return
	case s.CertFile == "":
		k.fail(p+".cert_file", "is required for TLS")
	case s.KeyFile == "":
		k.fail(p+".key_file", "is required for TLS")
	default:
		k.keyPair(p, s.CertFile, s.KeyFile)
	}
	verify := s.VerifyClients
	if verify != "" {
		k.oneOf(p+".verify_clients", verify, certs.VerifyModes)
	}
	switch {
	case (verify == certs.VerifyOptional || verify == certs.VerifyRequire) && s.ClientCAFile == "":
		k.fail(p+".client_ca_file", "is required with verify_clients: %s (the CA client certificates must chain to)", verify)
	case s.ClientCAFile != "" && (verify == "" || verify == certs.VerifyNone):
		k.fail(p+".client_ca_file", "is not used with verify_clients: none; say optional or require")
	case s.ClientCAFile != "":
		k.caFile(p+".client_ca_file", s.ClientCAFile)
	}
}

// checkPeerTLS checks a peer's `tls:` mapping and reads its files.
func (k *checker) checkPeerTLS(p, transport string, c *certs.Client) {
	if c == nil {
		return
	}
	if transport != "tls" {
		k.fail(p+".tls", "applies to transport: tls, not %s", orDefault(transport, "udp"))
	}
	if c.CAFile != "" {
		k.caFile(p+".tls.ca_file", c.CAFile)
	}
	if strings.ContainsAny(c.ServerName, " \t/:;@<>") {
		k.fail(p+".tls.server_name", "%q is not a host name", c.ServerName)
	}
	switch {
	case c.CertFile != "" && c.KeyFile == "":
		k.fail(p+".tls.key_file", "is required with cert_file (the client certificate's key)")
	case c.CertFile == "" && c.KeyFile != "":
		k.fail(p+".tls.cert_file", "is required with key_file")
	case c.CertFile != "":
		k.keyPair(p+".tls", c.CertFile, c.KeyFile)
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// keyPair reads a certificate and key, and puts the problem at the key
// that names the file that is wrong.
func (k *checker) keyPair(p, certFile, keyFile string) {
	if _, err := certs.LoadKeyPair(certFile, keyFile); err != nil {
		key := p + ".key_file"
		var fe *certs.FileError
		if errors.As(err, &fe) && fe.File == certFile {
			key = p + ".cert_file"
		}
		k.fail(key, "%v", err)
	}
}

func (k *checker) caFile(p, file string) {
	if _, err := certs.LoadCA(file); err != nil {
		k.fail(p, "%v", err)
	}
}

// checkPeersTLS checks every peer's `tls:`. A peer reached over TLS needs
// a TLS socket of natsbc: natsbc's Via and Contact on that leg name it.
func (k *checker) checkPeersTLS(c *Config) {
	hasTLS := false
	for _, l := range c.Sockets {
		hasTLS = hasTLS || l.Transport == "tls"
	}
	for i, peer := range c.Peers {
		p := fmt.Sprintf("peers[%d]", i)
		k.checkPeerTLS(p, peer.Transport, c.peerTLS(i))
		if peer.Transport == "tls" && !hasTLS {
			k.fail(p+".transport", "tls needs a listen entry with transport: tls (natsbc's Contact towards this peer)")
		}
		if peer.Transport == "tls" {
			k.tlsPeerOwnsAddress(p, peer, c.Peers)
		}
	}
}

// tlsPeerOwnsAddress: natsbc picks the CA, name and client certificate of
// a TLS connection by the peer whose networks hold the address it opens to
// (the most specific prefix), so a tls peer's IP address must be in its own
// networks and in no more specific one of another peer: else its
// connections would go out with another peer's certificate, or not at all.
func (k *checker) tlsPeerOwnsAddress(p string, peer policy.Peer, peers []policy.Peer) {
	host, _, err := policy.SplitPeerAddress(peer.Address)
	ip, perr := netip.ParseAddr(host)
	if err != nil || perr != nil {
		return // a host name: its addresses are checked when it is resolved
	}
	owner, bits := "", -1
	for _, other := range peers {
		for _, n := range other.Networks {
			if n.Contains(ip.Unmap()) && n.Bits() > bits {
				owner, bits = other.Name, n.Bits()
			}
		}
	}
	switch {
	case owner == "":
		k.fail(p+".networks", "must hold its address %s (natsbc's TLS settings for a connection follow the peer whose networks hold its address)", ip)
	case owner != peer.Name:
		k.fail(p+".address", "%s is in the networks of peer %q, whose TLS settings would apply; put it in this peer's networks only", ip, owner)
	}
}
