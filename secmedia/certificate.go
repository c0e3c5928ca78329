package secmedia

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"time"
)

// Certificate validity around its creation: a month back absorbs a peer
// whose clock is behind (RFC 5763 §5 has the peer check the fingerprint,
// but some stacks still look at the dates), a year forward outlives any
// call.
const (
	certBackdate = 30 * 24 * time.Hour
	certLifetime = 365 * 24 * time.Hour
)

// Certificate is natsbc's DTLS identity on a leg. RFC 5763 §5: it is
// self-signed and announced by its fingerprint in the SDP natsbc sends;
// the peer trusts it because the fingerprint came over signalling, not
// because anyone signed it.
type Certificate struct {
	tls         tls.Certificate
	fingerprint string
}

// NewCertificate makes a fresh self-signed ECDSA P-256 certificate
// (RFC 8827 §6.5 names ECDSA P-256 as the one every WebRTC endpoint
// supports).
func NewCertificate() (*Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	// RFC 5280 §4.1.2.2: a positive serial of at most 20 octets.
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial.Add(serial, big.NewInt(1)),
		Subject:      pkix.Name{CommonName: "natsbc"},
		NotBefore:    now.Add(-certBackdate),
		NotAfter:     now.Add(certLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return &Certificate{
		tls:         tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		fingerprint: Fingerprint{Hash: "sha-256", Digest: sum[:]}.String(),
	}, nil
}

// Fingerprint is the value of the a=fingerprint attribute that announces
// the certificate (RFC 8122 §5): "sha-256 " and the digest of its DER in
// uppercase hex pairs joined by colons.
func (c *Certificate) Fingerprint() string { return c.fingerprint }

// DER is the certificate as sent in the DTLS handshake.
func (c *Certificate) DER() []byte { return c.tls.Certificate[0] }
