//go:build linux

package natlab

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/natsbc/natsbc/certs/certstest"
)

// LabCert is the certificate a test makes for natsbc's TLS and WSS
// sockets (certstest: a CA of its own and a certificate it signs).
// baresip takes CAFile as its sip_cafile; Chromium trusts it through
// SPKIHash (--ignore-certificate-errors-spki-list), no CA needed.
type LabCert struct {
	CertFile, KeyFile, CAFile string
	// SPKIHash is base64(SHA-256(SubjectPublicKeyInfo)) of the certificate,
	// the form Chromium's --ignore-certificate-errors-spki-list takes.
	SPKIHash string
	// TLS is the certificate and key for a Go server of the lab's own.
	TLS tls.Certificate
}

// MakeCert makes a CA and a certificate it signs for the given IP
// addresses (its subjectAltNames: clients check the IP they dialled), their
// files in the lab directory under certs-name/.
func (l *Lab) MakeCert(t *testing.T, name string, ips ...string) LabCert {
	t.Helper()
	dir := filepath.Join(l.Dir, "certs-"+name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ca := certstest.NewCA(t, dir, name)
	pair := ca.Issue(t, dir, name, ips...)
	sum := sha256.Sum256(pair.Cert.RawSubjectPublicKeyInfo)
	return LabCert{CertFile: pair.CertFile, KeyFile: pair.KeyFile, CAFile: ca.File,
		SPKIHash: base64.StdEncoding.EncodeToString(sum[:]), TLS: pair.TLS}
}
