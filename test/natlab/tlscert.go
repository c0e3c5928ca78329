//go:build linux

package natlab

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// LabCert is a self-signed certificate a test makes for natsbc's TLS and
// WSS sockets. It is its own CA: baresip trusts it as its sip_cafile,
// Chromium through SPKIHash (--ignore-certificate-errors-spki-list).
type LabCert struct {
	CertFile, KeyFile string
	// SPKIHash is base64(SHA-256(SubjectPublicKeyInfo)), the form Chromium's
	// --ignore-certificate-errors-spki-list takes.
	SPKIHash string
	// TLS is the certificate and key for a Go server of the lab's own.
	TLS tls.Certificate
}

// MakeCert writes a fresh ECDSA P-256 certificate for the given IP
// addresses (its subjectAltNames: clients check the IP they dialled) to
// the lab directory as name.pem and name-key.pem.
func (l *Lab) MakeCert(t *testing.T, name string, ips ...string) LabCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "natlab " + name, Organization: []string{"natsbc lab"}},
		// An hour back: the clocks of the lab's peers are the host's, but a
		// certificate valid from "now" fails a peer that rounds down.
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		// Self-signed and the trust anchor itself: OpenSSL (baresip's libre)
		// accepts a leaf only through a CA certificate in its CA file.
		IsCA: true,
	}
	for _, ip := range ips {
		parsed := net.ParseIP(ip)
		if parsed == nil {
			t.Fatalf("MakeCert: %q is not an IP address", ip)
		}
		tmpl.IPAddresses = append(tmpl.IPAddresses, parsed)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := LabCert{
		CertFile: filepath.Join(l.Dir, name+".pem"),
		KeyFile:  filepath.Join(l.Dir, name+"-key.pem"),
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := os.WriteFile(c.CertFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.KeyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(parsed.RawSubjectPublicKeyInfo)
	c.SPKIHash = base64.StdEncoding.EncodeToString(sum[:])
	if c.TLS, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	return c
}
