//go:build linux

package natlab

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// SIPTap stands where natsbc's TLS or WSS socket will stand and keeps the
// requests a client sends it, answering none: no registrar, no PBX. The
// harness checks use it to prove, without natsbc, that a client (Chromium
// with JsSIP, baresip) trusts the lab's certificate, reaches that address
// through the NAT and sends what it sends (its REGISTER, its INVITE with
// the offer a secure-media leg has to take). TLS handshakes are done
// before sipgo sees a connection, so a refused certificate shows up as
// the handshake's error.
type SIPTap struct {
	Transport string // "tls" or "wss"
	Addr      string

	ua   *sipgo.UserAgent
	ln   net.Listener
	log  *os.File
	done chan struct{} // closed when the serving goroutine has returned

	mu         sync.Mutex
	requests   []*sip.Request
	handshakes []string // "ok from ADDR" or "ADDR: error"
	changed    chan struct{}
}

// StartSIPTap listens on addr (ip:port) in namespace ns with the lab
// certificate; transport is "tls" or "wss". It stops in t.Cleanup.
func (l *Lab) StartSIPTap(t *testing.T, ns, transport, addr string, cert LabCert) *SIPTap {
	t.Helper()
	_, port, _ := strings.Cut(addr, ":")
	logFile, err := os.Create(filepath.Join(l.Dir, "siptap-"+transport+"-"+port+".log"))
	if err != nil {
		t.Fatal(err)
	}
	s := &SIPTap{Transport: transport, Addr: addr, log: logFile, done: make(chan struct{}), changed: make(chan struct{})}
	logger := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s.ua, err = sipgo.NewUA(
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(logger)),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(logger)),
	)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(s.ua, sipgo.WithServerLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	srv.OnNoRoute(func(req *sip.Request, _ sip.ServerTransaction) { s.record(req) })
	var tcp net.Listener
	if err := l.InNS(ns, func() (err error) { tcp, err = net.Listen("tcp4", addr); return err }); err != nil {
		t.Fatalf("SIP tap on %s in %s: %v", addr, ns, err)
	}
	s.ln = &handshakingListener{Listener: tcp, conf: &tls.Config{Certificates: []tls.Certificate{cert.TLS}}, tap: s}
	serve := srv.ServeTLS
	if transport == "wss" {
		serve = srv.ServeWSS
	}
	go func() {
		defer close(s.done)
		_ = serve(s.ln)
	}()
	t.Cleanup(s.close)
	return s
}

func (s *SIPTap) close() {
	s.ln.Close()
	<-s.done
	s.ua.Close()
	s.log.Close()
}

func (s *SIPTap) record(req *sip.Request) {
	fmt.Fprintf(s.log, "==== received\n%s\n", req.String())
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.notifyLocked()
	s.mu.Unlock()
}

func (s *SIPTap) handshake(entry string) {
	fmt.Fprintf(s.log, "==== TLS handshake %s\n", entry)
	s.mu.Lock()
	s.handshakes = append(s.handshakes, entry)
	s.notifyLocked()
	s.mu.Unlock()
}

func (s *SIPTap) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Await returns the first request with method that arrived, or arrives
// within timeout; it fails the test, listing every TLS handshake and
// request the tap saw.
func (s *SIPTap) Await(t *testing.T, timeout time.Duration, method string) *sip.Request {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		for _, r := range s.requests {
			if r.Method.String() == method {
				s.mu.Unlock()
				return r
			}
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("SIP tap %s %s: no %s within %v; %s", s.Transport, s.Addr, method, timeout, s.Seen())
			return nil
		}
	}
}

// Handshakes lists the TLS handshakes so far: "ok from ADDR" or "ADDR: error".
func (s *SIPTap) Handshakes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.handshakes...)
}

// Seen says what the tap saw, for failure messages.
func (s *SIPTap) Seen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var methods []string
	for _, r := range s.requests {
		methods = append(methods, r.Method.String())
	}
	return fmt.Sprintf("TLS handshakes %q, requests %v", s.handshakes, methods)
}

// handshakingListener completes each TLS handshake in Accept and reports
// it to the tap; a failed one is closed and never reaches sipgo.
type handshakingListener struct {
	net.Listener
	conf *tls.Config
	tap  *SIPTap
}

func (h *handshakingListener) Accept() (net.Conn, error) {
	for {
		c, err := h.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tc := tls.Server(c, h.conf)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = tc.HandshakeContext(ctx)
		cancel()
		if err == nil {
			h.tap.handshake("ok from " + c.RemoteAddr().String())
			return tc, nil
		}
		if !errors.Is(err, net.ErrClosed) {
			h.tap.handshake(c.RemoteAddr().String() + ": " + strings.TrimSpace(err.Error()))
		}
		tc.Close()
	}
}

// SDPOf is the body of a request that carries an SDP offer.
func SDPOf(req *sip.Request) string {
	if ct := req.ContentType(); ct == nil || !strings.HasPrefix(strings.ToLower(ct.Value()), "application/sdp") {
		return ""
	}
	return string(req.Body())
}
