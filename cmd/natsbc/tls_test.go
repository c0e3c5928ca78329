package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/natsbc/natsbc/certs/certstest"
)

// lockedBuffer is a log sink tests read while natsbc writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// presented is the first DNS name of the certificate a TLS socket
// presents to a new handshake.
func presented(t *testing.T, addr string, pool *tls.Config) string {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, pool)
	if err != nil {
		t.Fatalf("TLS to %s: %v", addr, err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].DNSNames[0]
}

// natsbc serves tls and wss sockets from the configured files; a reload
// (SIGHUP, ctl reload) gives new handshakes the certificate now in the
// files, and files that do not load keep the one in force and say so.
func TestTLSAndWSSSocketsFollowTheirCertificate(t *testing.T) {
	dir := t.TempDir()
	ca := certstest.NewCA(t, dir, "test")
	ca.Issue(t, dir, "srv", "one.example", "127.0.0.1")
	tlsPort, wssPort, adminPort := freePort(t, "tcp"), freePort(t, "tcp"), freePort(t, "tcp")
	conf := fmt.Sprintf(`listen:
  - name: sips
    address: 127.0.0.1:%d
    transport: tls
    tls:
      cert_file: srv.pem
      key_file: srv.key
  - name: web
    address: 127.0.0.1:%d
    transport: wss
    tls:
      cert_file: srv.pem
      key_file: srv.key
registrations:
  state_file: ""
media:
  anchor: false
admin:
  listen: 127.0.0.1:%d
  token: %s
`, tlsPort, wssPort, adminPort, apiToken)
	file := filepath.Join(dir, "natsbc.yaml")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := options{configFile: file}
	cfg, err := loadConfig(opts)
	if err != nil {
		t.Fatal(err)
	}
	level := new(slog.LevelVar)
	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, opts, cfg, nil, level, slog.New(slog.NewTextHandler(logs, nil))) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	admin := fmt.Sprintf("127.0.0.1:%d", adminPort)
	deadline := time.Now().Add(10 * time.Second)
	for code, _, _ := ctlRun(admin, "version"); code != exitOK; code, _, _ = ctlRun(admin, "version") {
		if time.Now().After(deadline) {
			t.Fatalf("natsbc did not come up:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond) // natsbc is starting: nothing to await but its port
	}
	sips := fmt.Sprintf("127.0.0.1:%d", tlsPort)
	client := &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"}
	if got := presented(t, sips, client); got != "one.example" {
		t.Fatalf("first handshake: %s", got)
	}

	// wss: TLS, then the WebSocket upgrade with the sip subprotocol.
	dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
	conn, _, hs, err := ws.Dialer{Protocols: []string{"sip"}, TLSConfig: client}.Dial(dctx, fmt.Sprintf("wss://127.0.0.1:%d/", wssPort))
	dcancel()
	if err != nil || hs.Protocol != "sip" {
		t.Fatalf("wss upgrade: %v, protocol %q", err, hs.Protocol)
	}
	_ = conn.Close()

	ca.Issue(t, dir, "srv", "two.example", "127.0.0.1")
	if code, _, errs := ctlRun(admin, "reload"); code != exitOK {
		t.Fatalf("reload: %d %s", code, errs)
	}
	if got := presented(t, sips, client); got != "two.example" {
		t.Fatalf("after the reload: %s", got)
	}

	// A certificate whose key is another: the reload keeps "two".
	other := ca.Issue(t, dir, "other", "three.example", "127.0.0.1")
	if err := os.Rename(other.CertFile, filepath.Join(dir, "srv.pem")); err != nil {
		t.Fatal(err)
	}
	ctlRun(admin, "reload") // the config itself names the bad file: refused
	if got := presented(t, sips, client); got != "two.example" {
		t.Fatalf("after bad files: %s", got)
	}
	if l := logs.String(); !strings.Contains(l, "TLS certificate not reloaded: the old one stays") || !strings.Contains(l, "does not match") {
		t.Errorf("no line about the bad files:\n%s", l)
	}
}
