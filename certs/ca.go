package certs

import (
	"crypto/x509"
	"errors"
	"sync"
	"sync/atomic"
)

// CA is a set of trusted certificates read from one PEM file.
type CA struct {
	file string
	cur  atomic.Pointer[x509.CertPool]

	mu   sync.Mutex
	seen []stamp
}

// LoadCA reads a PEM file of CA certificates; a file without any is an
// error.
func LoadCA(file string) (*x509.CertPool, error) {
	b, err := readPEMFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, &FileError{File: file, Err: errors.New("no PEM certificate in it")}
	}
	return pool, nil
}

func newCA(file string) (*CA, error) {
	c := &CA{file: file, seen: stampOf(file)}
	p, err := LoadCA(file)
	if err != nil {
		return nil, err
	}
	c.cur.Store(p)
	return c, nil
}

// Pool is the set of certificates in force.
func (c *CA) Pool() *x509.CertPool { return c.cur.Load() }

func (c *CA) reload(force bool) (changed bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := stampOf(c.file)
	if !force && sameStamps(now, c.seen) {
		return false, nil
	}
	c.seen = now
	p, err := LoadCA(c.file)
	if err != nil {
		return false, err
	}
	c.cur.Store(p)
	return true, nil
}
