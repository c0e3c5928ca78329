package certs

import (
	"bytes"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/natsbc/natsbc/certs/certstest"
)

// logSink collects log lines and tells when one containing a text came.
type logSink struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{}
}

func newLogSink() *logSink { return &logSink{wrote: make(chan struct{}, 64)} }

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case l.wrote <- struct{}{}:
	default:
	}
	return l.buf.Write(p)
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// await waits for a line containing s.
func (l *logSink) await(t *testing.T, s string) { t.Helper(); l.awaitCount(t, s, 1) }

// awaitCount waits for n lines containing s.
func (l *logSink) awaitCount(t *testing.T, s string, n int) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for strings.Count(l.String(), s) < n {
		select {
		case <-l.wrote:
		case <-deadline:
			t.Fatalf("no log line with %q in:\n%s", s, l.String())
		}
	}
}

func TestLoadKeyPairErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	ca := certstest.NewCA(t, dir, "test")
	a := ca.Issue(t, dir, "a", "a.example")
	b := ca.Issue(t, dir, "b", "b.example")
	garbage := dir + "/garbage.pem"
	if err := os.WriteFile(garbage, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cert, key, file, want string
	}{
		{dir + "/missing.pem", a.KeyFile, dir + "/missing.pem", "no such file"},
		{a.CertFile, dir + "/missing.key", dir + "/missing.key", "no such file"},
		{garbage, a.KeyFile, garbage, "no PEM certificate"},
		{a.CertFile, garbage, garbage, "PEM"},
		{a.CertFile, b.KeyFile, b.KeyFile, "does not match the certificate in " + a.CertFile},
		{dir, a.KeyFile, dir, "not a regular file"},
	}
	for _, tt := range tests {
		_, err := LoadKeyPair(tt.cert, tt.key)
		var fe *FileError
		if !errors.As(err, &fe) || fe.File != tt.file || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("LoadKeyPair(%s, %s) = %v; want a FileError on %s saying %q", tt.cert, tt.key, err, tt.file, tt.want)
		}
	}
	if _, err := LoadCA(garbage); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("LoadCA(garbage) = %v", err)
	}
	if c, err := LoadKeyPair(a.CertFile, a.KeyFile); err != nil || c.Leaf.DNSNames[0] != "a.example" {
		t.Errorf("LoadKeyPair(a) = %v, %v", c, err)
	}
}

// serverName returns the DNS name of the certificate a listener with cfg
// presents to a new handshake.
func handshakeName(t *testing.T, cfg *tls.Config, client *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err == nil {
			_ = c.(*tls.Conn).Handshake()
			_ = c.Close()
		}
	}()
	defer func() { <-done }()
	c, err := tls.Dial("tcp", ln.Addr().String(), client)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].DNSNames[0]
}

// A new handshake gets the new certificate once the files changed (SIGHUP
// or the poller); files that do not load keep the old one, said once.
func TestReloadOnSignalAndOnChange(t *testing.T) {
	dir := t.TempDir()
	ca := certstest.NewCA(t, dir, "test")
	ca.Issue(t, dir, "srv", "one.example")
	sink := newLogSink()
	st := NewStore(slog.New(slog.NewTextHandler(sink, nil)))
	defer st.Close()
	cfg, err := st.ServerConfig(Server{CertFile: dir + "/srv.pem", KeyFile: dir + "/srv.key"})
	if err != nil {
		t.Fatal(err)
	}
	client := &tls.Config{RootCAs: ca.Pool(), InsecureSkipVerify: true}
	if got := handshakeName(t, cfg, client); got != "one.example" {
		t.Fatalf("first handshake: %s", got)
	}

	// SIGHUP: read again whatever the stamps say.
	ca.Issue(t, dir, "srv", "two.example")
	st.Reload()
	if got := handshakeName(t, cfg, client); got != "two.example" {
		t.Fatalf("after Reload: %s", got)
	}

	// A key that is not the certificate's: the old pair stays, one line.
	other := ca.Issue(t, dir, "other", "three.example")
	if err := os.Rename(other.CertFile, dir+"/srv.pem"); err != nil {
		t.Fatal(err)
	}
	st.Watch(10 * time.Millisecond)
	sink.await(t, "TLS certificate not reloaded: the old one stays")
	if got := handshakeName(t, cfg, client); got != "two.example" {
		t.Fatalf("after bad files: %s", got)
	}

	// Good files again: the poller takes them.
	ca.Issue(t, dir, "srv", "four.example")
	sink.awaitCount(t, "TLS certificate reloaded", 2) // SIGHUP's, then the poller's
	if got := handshakeName(t, cfg, client); got != "four.example" {
		t.Fatalf("after the poller: %s", got)
	}
	// One line per change, not per poll: the bad pair, and perhaps the
	// moment between the new certificate's rename and its key's.
	if n := strings.Count(sink.String(), "not reloaded"); n < 1 || n > 2 {
		t.Errorf("%d not-reloaded lines; want 1 or 2 (one per change)", n)
	}
}

// verify_clients require: a client without a certificate of the client CA
// fails the handshake; with one it passes.
func TestServerConfigVerifiesClients(t *testing.T) {
	dir := t.TempDir()
	ca := certstest.NewCA(t, dir, "test")
	srv := ca.Issue(t, dir, "srv", "127.0.0.1")
	cli := ca.Issue(t, dir, "cli", "client.example")
	rogue := certstest.NewCA(t, dir, "rogue").Issue(t, dir, "rogue", "client.example")
	st := NewStore(nil)
	defer st.Close()
	cfg, err := st.ServerConfig(Server{CertFile: srv.CertFile, KeyFile: srv.KeyFile, ClientCAFile: ca.File, VerifyClients: VerifyRequire})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			_, _ = c.Write([]byte("x"))
			_ = c.Close()
		}
	}()
	defer wg.Wait()
	defer ln.Close()
	try := func(certs []tls.Certificate) error {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1", Certificates: certs})
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Read(make([]byte, 1)) // TLS 1.3: the server's verdict comes after the handshake
		return err
	}
	if err := try([]tls.Certificate{cli.TLS}); err != nil {
		t.Errorf("client with the CA's certificate: %v", err)
	}
	if err := try(nil); err == nil {
		t.Error("client without a certificate got in")
	}
	if err := try([]tls.Certificate{rogue.TLS}); err == nil {
		t.Error("client with another CA's certificate got in")
	}
}

// ClientConfig checks the peer's name as RFC 5922 §7.2 wants it: exact,
// no wildcard.
func TestClientConfigNameCheck(t *testing.T) {
	dir := t.TempDir()
	ca := certstest.NewCA(t, dir, "test")
	good := ca.Issue(t, dir, "good", "trunk.example", "127.0.0.1")
	wild := ca.Issue(t, dir, "wild", "*.example")
	st := NewStore(nil)
	defer st.Close()
	serve := func(p *certstest.Pair) string {
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{p.TLS}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				_ = c.(*tls.Conn).Handshake()
				_ = c.Close()
			}
		}()
		return ln.Addr().String()
	}
	goodAddr, wildAddr := serve(good), serve(wild)
	dial := func(addr string, c Client, host string) error {
		cfg, err := st.ClientConfig(c, host)
		if err != nil {
			return err
		}
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
		if err == nil {
			_ = conn.Close()
		}
		return err
	}
	for _, tt := range []struct {
		addr string
		c    Client
		host string
		ok   bool
	}{
		{goodAddr, Client{CAFile: ca.File}, "127.0.0.1", true},
		{goodAddr, Client{CAFile: ca.File, ServerName: "trunk.example"}, "127.0.0.1", true},
		{goodAddr, Client{CAFile: ca.File, ServerName: "other.example"}, "127.0.0.1", false},
		{goodAddr, Client{}, "127.0.0.1", false}, // system roots do not know the test CA
		{wildAddr, Client{CAFile: ca.File, ServerName: "trunk.example"}, "127.0.0.1", false},
		{wildAddr, Client{InsecureSkipVerify: true}, "127.0.0.1", true},
	} {
		if err := dial(tt.addr, tt.c, tt.host); (err == nil) != tt.ok {
			t.Errorf("%+v to %s: err = %v; want ok=%v", tt.c, tt.addr, err, tt.ok)
		}
	}
}
