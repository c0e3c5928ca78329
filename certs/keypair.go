package certs

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// KeyPair is a certificate chain and its private key, read from two PEM
// files, replaced whole when the files change.
type KeyPair struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]

	mu   sync.Mutex // one reload at a time
	seen []stamp    // the files' stamps when last read, good or bad
}

// LoadKeyPair reads a certificate chain and its key. The error says which
// file is wrong and how: missing, unreadable, not PEM, or a key that does
// not belong to the certificate.
func LoadKeyPair(certFile, keyFile string) (*tls.Certificate, error) {
	certPEM, err := readPEMFile(certFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := readPEMFile(keyFile)
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, pairError(certFile, keyFile, certPEM, err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, &FileError{File: certFile, Err: err}
	}
	cert.Leaf = leaf
	return &cert, nil
}

// pairError names the file tls.X509KeyPair's error is about: a certificate
// file without a readable certificate, or else the key (missing, or not the
// certificate's).
func pairError(certFile, keyFile string, certPEM []byte, err error) error {
	if cerr := firstCertificate(certPEM); cerr != nil {
		return &FileError{File: certFile, Err: cerr}
	}
	if strings.Contains(err.Error(), "does not match") {
		return &FileError{File: keyFile, Err: fmt.Errorf("the key does not match the certificate in %s", certFile)}
	}
	return &FileError{File: keyFile, Err: err}
}

// firstCertificate checks that b starts a chain with a certificate x509
// can read.
func firstCertificate(b []byte) error {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return errors.New("no PEM certificate in it")
		}
		if blk.Type == "CERTIFICATE" {
			_, err := x509.ParseCertificate(blk.Bytes)
			return err
		}
	}
}

// FileError is a TLS file that could not be used.
type FileError struct {
	File string
	Err  error
}

func (e *FileError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

func newKeyPair(certFile, keyFile string) (*KeyPair, error) {
	k := &KeyPair{certFile: certFile, keyFile: keyFile}
	k.seen = stampOf(certFile, keyFile)
	c, err := LoadKeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	k.cur.Store(c)
	return k, nil
}

// Current is the certificate in force.
func (k *KeyPair) Current() *tls.Certificate { return k.cur.Load() }

// Files are the certificate and key file names.
func (k *KeyPair) Files() (cert, key string) { return k.certFile, k.keyFile }

// reload reads the files again when force is set or they changed since the
// last read. changed is true when a new certificate is in force; err when
// the files could not be used (the old certificate stays).
func (k *KeyPair) reload(force bool) (changed bool, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := stampOf(k.certFile, k.keyFile)
	if !force && sameStamps(now, k.seen) {
		return false, nil
	}
	k.seen = now
	c, err := LoadKeyPair(k.certFile, k.keyFile)
	if err != nil {
		return false, err
	}
	k.cur.Store(c)
	return true, nil
}

// expiry is when the certificate in force stops being valid.
func (k *KeyPair) expiry() time.Time {
	if c := k.Current(); c != nil && c.Leaf != nil {
		return c.Leaf.NotAfter
	}
	return time.Time{}
}

func (k *KeyPair) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return k.Current(), nil
}

func (k *KeyPair) getClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return k.Current(), nil
}
