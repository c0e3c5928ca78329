package certs

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// How a TLS listen socket treats client certificates (verify_clients).
const (
	VerifyNone     = "none"
	VerifyOptional = "optional"
	VerifyRequire  = "require"
)

// VerifyModes lists the spellings of verify_clients.
var VerifyModes = []string{VerifyNone, VerifyOptional, VerifyRequire}

// Server is the TLS of one listen socket.
type Server struct {
	CertFile, KeyFile string
	// ClientCAFile verifies client certificates (VerifyClients optional
	// or require).
	ClientCAFile  string
	VerifyClients string // VerifyNone ("" too), VerifyOptional, VerifyRequire
}

// Client is how natsbc connects to one TLS peer.
type Client struct {
	// CAFile verifies the peer's certificate; "" takes the system roots.
	CAFile string
	// ServerName is sent as SNI and checked in the peer's certificate
	// (RFC 5922 §7.2); "" takes the host natsbc connects to.
	ServerName string
	// CertFile and KeyFile are natsbc's client certificate (mutual TLS).
	CertFile, KeyFile string
	// InsecureSkipVerify accepts any certificate: tests only.
	InsecureSkipVerify bool
}

// ServerConfig is the tls.Config of a listen socket: its certificate is
// read per handshake from the holders, so a reload reaches the next
// handshake without a new listener.
func (s *Store) ServerConfig(c Server) (*tls.Config, error) {
	kp, err := s.KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, err
	}
	base := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: kp.getCertificate}
	switch c.VerifyClients {
	case VerifyOptional:
		base.ClientAuth = tls.VerifyClientCertIfGiven
	case VerifyRequire:
		base.ClientAuth = tls.RequireAndVerifyClientCert
	case VerifyNone, "":
		return base, nil
	default:
		return nil, fmt.Errorf("verify_clients %q is not one of %s", c.VerifyClients, strings.Join(VerifyModes, ", "))
	}
	if c.ClientCAFile == "" {
		return nil, errors.New("verifying client certificates needs a client CA file")
	}
	ca, err := s.CA(c.ClientCAFile)
	if err != nil {
		return nil, err
	}
	out := base.Clone()
	out.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		h := base.Clone()
		h.ClientCAs = ca.Pool()
		return h, nil
	}
	return out, nil
}

// ClientConfig is the tls.Config of one connection natsbc opens to host (an
// IP or a name): the peer's CA and client certificate as they are now.
func (s *Store) ClientConfig(c Client, host string) (*tls.Config, error) {
	name := cmp.Or(c.ServerName, host)
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: name, InsecureSkipVerify: c.InsecureSkipVerify}
	if c.CAFile != "" {
		ca, err := s.CA(c.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = ca.Pool()
	}
	if c.CertFile != "" {
		kp, err := s.KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, err
		}
		cfg.GetClientCertificate = kp.getClientCertificate
	}
	if !c.InsecureSkipVerify {
		cfg.VerifyConnection = func(cs tls.ConnectionState) error { return exactName(cs, name) }
	}
	return cfg, nil
}

// exactName applies RFC 5922 §7.2 on top of Go's chain and name check:
// the name must be one of the certificate's subjectAltNames as it is, "the
// implementation MUST NOT use wildcards" ("*.example.com" does not match).
func exactName(cs tls.ConnectionState, name string) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("the peer sent no certificate")
	}
	leaf := cs.PeerCertificates[0]
	if ip, err := netip.ParseAddr(strings.Trim(name, "[]")); err == nil {
		for _, a := range leaf.IPAddresses {
			if b, ok := netip.AddrFromSlice(a); ok && b.Unmap() == ip.Unmap() {
				return nil
			}
		}
		return fmt.Errorf("certificate of %q has no subjectAltName IP %s", leaf.Subject.CommonName, ip)
	}
	for _, d := range leaf.DNSNames {
		if strings.EqualFold(strings.TrimSuffix(d, "."), strings.TrimSuffix(name, ".")) {
			return nil
		}
	}
	return &x509.HostnameError{Certificate: leaf, Host: name}
}
