package secmedia

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/srtp/v3"
)

// testTimeout bounds every wait, so a broken handshake fails the test
// instead of hanging it.
const testTimeout = 10 * time.Second

// leg is natsbc's side of a DTLS test: a UDP socket on loopback whose
// datagrams a reader feeds to the DTLS session, as the relay does.
type leg struct {
	sock   *net.UDPConn
	peer   *net.UDPConn
	d      *DTLS
	ready  chan *Transform
	failed chan error
	wg     sync.WaitGroup
}

// startLeg opens natsbc's socket and the peer's, and starts natsbc's DTLS
// towards the peer's socket with cfg (Send, OnReady, OnFailed filled in).
func startLeg(t *testing.T, cfg DTLSConfig) *leg {
	t.Helper()
	l := &leg{ready: make(chan *Transform, 1), failed: make(chan error, 1)}
	var err error
	if l.sock, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	if l.peer, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	peerAddr := l.peer.LocalAddr().(*net.UDPAddr).AddrPort()
	cfg.Send = func(pkt []byte) { _, _ = l.sock.WriteToUDPAddrPort(pkt, peerAddr) }
	cfg.OnReady = func(tr *Transform) { l.ready <- tr }
	cfg.OnFailed = func(err error) { l.failed <- err }
	if l.d, err = StartDTLS(cfg); err != nil {
		t.Fatal(err)
	}
	l.wg.Add(1)
	go func() { // the relay's reader for this socket
		defer l.wg.Done()
		buf := make([]byte, 1500)
		for {
			n, _, err := l.sock.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			l.d.Feed(buf[:n])
		}
	}()
	return l
}

// close ends natsbc's session and the test's reader.
func (l *leg) close(t *testing.T) {
	t.Helper()
	closeWithin(t, l.d)
	_ = l.sock.Close()
	l.wg.Wait()
}

// closeWithin closes d and fails the test if Close does not return.
func closeWithin(t *testing.T, d *DTLS) {
	t.Helper()
	closed := make(chan struct{})
	go func() { d.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(testTimeout):
		t.Fatal("Close did not return")
	}
}

func newCert(t testing.TB) *Certificate {
	t.Helper()
	c, err := NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustFingerprint(t testing.TB, c *Certificate) Fingerprint {
	t.Helper()
	f, err := ParseFingerprint(c.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// peerOptions configure pion/dtls as a browser does: its own certificate,
// the SRTP profiles it offers, the extended master secret, and natsbc's
// certificate checked against the fingerprint natsbc announced.
func peerOptions(cert *Certificate, natsbcFP Fingerprint, profiles ...dtls.SRTPProtectionProfile) []dtls.Option {
	opts := []dtls.Option{
		dtls.WithSRTPProtectionProfiles(profiles...),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithInsecureSkipVerify(true),
		dtls.WithVerifyPeerCertificate(func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || !natsbcFP.Matches(raw[0]) {
				return errors.New("natsbc's certificate does not match its fingerprint")
			}
			return nil
		}),
	}
	if cert != nil {
		opts = append(opts, dtls.WithCertificates(cert.tls))
	}
	return opts
}

// startPeer runs pion/dtls on the peer's socket in the role opposite to
// natsbc's and returns a channel with the handshake's outcome.
func startPeer(t *testing.T, l *leg, natsbcIsClient bool, opts []dtls.Option) (*dtls.Conn, chan error) {
	t.Helper()
	natsbcAddr := l.sock.LocalAddr()
	var conn *dtls.Conn
	var err error
	if natsbcIsClient {
		sopts := make([]dtls.ServerOption, 0, len(opts)+1)
		for _, o := range opts {
			sopts = append(sopts, o)
		}
		sopts = append(sopts, dtls.WithClientAuth(dtls.RequireAnyClientCert))
		conn, err = dtls.ServerWithOptions(l.peer, natsbcAddr, sopts...)
	} else {
		copts := make([]dtls.ClientOption, 0, len(opts))
		for _, o := range opts {
			copts = append(copts, o)
		}
		conn, err = dtls.ClientWithOptions(l.peer, natsbcAddr, copts...)
	}
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		done <- conn.HandshakeContext(ctx)
	}()
	return conn, done
}

// peerContexts derives the peer's SRTP contexts from its side of the
// handshake with pion/srtp's own RFC 5764 key extraction.
func peerContexts(t *testing.T, conn *dtls.Conn, peerIsClient bool) (enc, dec *srtp.Context, profile srtp.ProtectionProfile) {
	t.Helper()
	chosen, ok := conn.SelectedSRTPProtectionProfile()
	if !ok {
		t.Fatal("peer: no SRTP profile negotiated")
	}
	profile, ok = srtpProfileOf(chosen)
	if !ok {
		t.Fatalf("peer: profile %v", chosen)
	}
	state, ok := conn.ConnectionState()
	if !ok {
		t.Fatal("peer: no state")
	}
	cfg := srtp.Config{Profile: profile}
	if err := cfg.ExtractSessionKeysFromDTLS(&state, peerIsClient); err != nil {
		t.Fatal(err)
	}
	var err error
	if enc, err = srtp.CreateContext(cfg.Keys.LocalMasterKey, cfg.Keys.LocalMasterSalt, profile); err != nil {
		t.Fatal(err)
	}
	if dec, err = srtp.CreateContext(cfg.Keys.RemoteMasterKey, cfg.Keys.RemoteMasterSalt, profile); err != nil {
		t.Fatal(err)
	}
	return enc, dec, profile
}

func waitReady(t *testing.T, l *leg) *Transform {
	t.Helper()
	select {
	case tr := <-l.ready:
		return tr
	case err := <-l.failed:
		t.Fatalf("natsbc's handshake failed: %v", err)
	case <-time.After(testTimeout):
		t.Fatal("natsbc's handshake did not finish")
	}
	return nil
}

func waitFailed(t *testing.T, l *leg) error {
	t.Helper()
	select {
	case tr := <-l.ready:
		t.Fatalf("handshake succeeded (%p), want failure", tr)
	case err := <-l.failed:
		return err
	case <-time.After(testTimeout):
		t.Fatal("OnFailed not called")
	}
	return nil
}

// waitGoroutines waits until no more goroutines run than before: pion's
// own goroutines end shortly after Close without being awaited.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDTLSHandshakeWithPion(t *testing.T) {
	gcm, cm := dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80
	cases := []struct {
		name        string
		client      bool
		peerOffers  []dtls.SRTPProtectionProfile
		wantProfile srtp.ProtectionProfile // 0: either
	}{
		{"natsbc server, peer offers GCM", false, []dtls.SRTPProtectionProfile{gcm}, srtp.ProtectionProfileAeadAes128Gcm},
		{"natsbc server, peer offers AES-CM", false, []dtls.SRTPProtectionProfile{cm}, srtp.ProtectionProfileAes128CmHmacSha1_80},
		{"natsbc server, peer offers both", false, []dtls.SRTPProtectionProfile{cm, gcm}, 0},
		{"natsbc client, peer takes GCM", true, []dtls.SRTPProtectionProfile{gcm}, srtp.ProtectionProfileAeadAes128Gcm},
		{"natsbc client, peer takes AES-CM", true, []dtls.SRTPProtectionProfile{cm}, srtp.ProtectionProfileAes128CmHmacSha1_80},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			natsbcCert, peerCert := newCert(t), newCert(t)
			l := startLeg(t, DTLSConfig{
				Certificate: natsbcCert,
				Client:      c.client,
				Remote:      []Fingerprint{mustFingerprint(t, newCert(t)), mustFingerprint(t, peerCert)},
			})
			peer, peerDone := startPeer(t, l, c.client, peerOptions(peerCert, mustFingerprint(t, natsbcCert), c.peerOffers...))
			tr := waitReady(t, l)
			if err := <-peerDone; err != nil {
				t.Fatalf("peer's handshake: %v", err)
			}
			if l.d.Transform() != tr {
				t.Fatal("Transform() is not what OnReady got")
			}
			peerEnc, peerDec, profile := peerContexts(t, peer, !c.client)
			if c.wantProfile != 0 && profile != c.wantProfile {
				t.Fatalf("negotiated %v, want %v", profile, c.wantProfile)
			}
			for seq := uint16(1); seq <= 3; seq++ {
				plain := g711Packet(t, 0xAAAA, seq)
				enc, err := tr.EncryptRTP(nil, plain)
				if err != nil {
					t.Fatal(err)
				}
				if got, err := peerDec.DecryptRTP(nil, enc, nil); err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("peer cannot decrypt natsbc's SRTP: %v", err)
				}
				enc, err = peerEnc.EncryptRTP(nil, g711Packet(t, 0xBBBB, seq), nil)
				if err != nil {
					t.Fatal(err)
				}
				if got, err := tr.DecryptRTP(nil, enc); err != nil || !bytes.Equal(got, g711Packet(t, 0xBBBB, seq)) {
					t.Fatalf("natsbc cannot decrypt the peer's SRTP: %v", err)
				}
				rr := receiverReport(t, 0xAAAA)
				encRTCP, err := tr.EncryptRTCP(nil, rr)
				if err != nil {
					t.Fatal(err)
				}
				if got, err := peerDec.DecryptRTCP(nil, encRTCP, nil); err != nil || !bytes.Equal(got, rr) {
					t.Fatalf("peer cannot decrypt natsbc's SRTCP: %v", err)
				}
			}
			// The session keeps reading after the handshake until Close,
			// which ends it while the peer is still there.
			l.close(t)
			_ = peer.Close()
			_ = l.peer.Close()
			select {
			case err := <-l.failed:
				t.Fatalf("OnFailed after a successful handshake: %v", err)
			default:
			}
			waitGoroutines(t, before)
		})
	}
}

// A peer whose certificate is not the one its SDP announced is refused in
// both roles: OnFailed, no Transform.
func TestDTLSRefusesCertificateNotAnnounced(t *testing.T) {
	for _, client := range []bool{false, true} {
		t.Run(map[bool]string{false: "natsbc server", true: "natsbc client"}[client], func(t *testing.T) {
			before := runtime.NumGoroutine()
			natsbcCert, peerCert := newCert(t), newCert(t)
			l := startLeg(t, DTLSConfig{
				Certificate: natsbcCert,
				Client:      client,
				Remote:      []Fingerprint{mustFingerprint(t, newCert(t))}, // not the peer's
			})
			peer, peerDone := startPeer(t, l, client, peerOptions(peerCert, mustFingerprint(t, natsbcCert), dtls.SRTP_AEAD_AES_128_GCM))
			err := waitFailed(t, l)
			t.Logf("OnFailed: %v", err)
			if !errors.Is(err, ErrPeerCertificate) {
				t.Errorf("OnFailed(%v), want the certificate named", err)
			}
			if l.d.Transform() != nil {
				t.Fatal("a Transform after a refused certificate")
			}
			if err := <-peerDone; err == nil {
				t.Error("the peer's handshake succeeded")
			}
			_ = peer.Close()
			l.close(t)
			_ = l.peer.Close()
			waitGoroutines(t, before)
		})
	}
}

// RFC 5763 §5: natsbc as server requires the client's certificate; a
// client that sends none fails.
func TestDTLSServerRequiresClientCertificate(t *testing.T) {
	natsbcCert := newCert(t)
	l := startLeg(t, DTLSConfig{Certificate: natsbcCert, Remote: []Fingerprint{mustFingerprint(t, newCert(t))}})
	defer l.close(t)
	peer, peerDone := startPeer(t, l, false, peerOptions(nil, mustFingerprint(t, natsbcCert), dtls.SRTP_AEAD_AES_128_GCM))
	defer peer.Close()
	waitFailed(t, l)
	if err := <-peerDone; err == nil {
		t.Error("the peer's handshake succeeded without a certificate")
	}
	if l.d.Transform() != nil {
		t.Fatal("a Transform without the client's certificate")
	}
}

// Close mid-handshake returns, calls neither callback and leaves no
// goroutine behind, in either role.
func TestDTLSCloseMidHandshake(t *testing.T) {
	for _, client := range []bool{false, true} {
		t.Run(map[bool]string{false: "natsbc server", true: "natsbc client"}[client], func(t *testing.T) {
			before := runtime.NumGoroutine()
			sent := make(chan struct{}, 16)
			var called atomic.Bool
			d, err := StartDTLS(DTLSConfig{
				Certificate: newCert(t),
				Client:      client,
				Remote:      []Fingerprint{mustFingerprint(t, newCert(t))},
				Send: func([]byte) {
					select {
					case sent <- struct{}{}:
					default:
					}
				},
				OnReady:  func(*Transform) { called.Store(true) },
				OnFailed: func(error) { called.Store(true) },
			})
			if err != nil {
				t.Fatal(err)
			}
			if client {
				<-sent // the ClientHello is out: the handshake is under way
			} else {
				// A ClientHello from a peer: the server answers it
				// (HelloVerifyRequest) and waits for the next flight.
				d.Feed(clientHello(t))
				select {
				case <-sent:
				case <-time.After(testTimeout):
					t.Fatal("the server did not answer a ClientHello")
				}
			}
			closeWithin(t, d)
			if called.Load() {
				t.Fatal("a callback ran after Close")
			}
			// After Close, Feed neither blocks nor queues.
			dropped := d.Dropped()
			d.Feed([]byte{22, 0xfe, 0xfd})
			if d.Dropped() != dropped+1 {
				t.Fatal("Feed after Close not counted as dropped")
			}
			d.Close() // twice is fine
			waitGoroutines(t, before)
		})
	}
}

// clientHello is the first flight of a DTLS client with natsbc's options.
func clientHello(t testing.TB) []byte {
	t.Helper()
	got := make(chan []byte, 1)
	d, err := StartDTLS(DTLSConfig{
		Certificate: newCert(t),
		Client:      true,
		Remote:      []Fingerprint{mustFingerprint(t, newCert(t))},
		Send: func(pkt []byte) {
			select {
			case got <- bytes.Clone(pkt):
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	select {
	case pkt := <-got:
		return pkt
	case <-time.After(testTimeout):
		t.Fatal("no ClientHello")
	}
	return nil
}

// A handshake the peer never answers ends at HandshakeTimeout with
// OnFailed.
func TestDTLSHandshakeTimeout(t *testing.T) {
	failed := make(chan error, 2)
	start := time.Now()
	d, err := StartDTLS(DTLSConfig{
		Certificate:      newCert(t),
		Client:           true,
		Remote:           []Fingerprint{mustFingerprint(t, newCert(t))},
		Send:             func([]byte) {},
		OnFailed:         func(err error) { failed <- err },
		HandshakeTimeout: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	select {
	case err := <-failed:
		if time.Since(start) < 300*time.Millisecond {
			t.Fatalf("failed before the timeout: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("no OnFailed after the handshake timeout")
	}
	d.Close()
	if len(failed) != 0 {
		t.Fatal("OnFailed called more than once")
	}
}

func TestStartDTLSRefusesIncompleteConfig(t *testing.T) {
	cert := newCert(t)
	fp := []Fingerprint{mustFingerprint(t, newCert(t))}
	send := func([]byte) {}
	for name, cfg := range map[string]DTLSConfig{
		"no certificate": {Remote: fp, Send: send},
		"no send":        {Certificate: cert, Remote: fp},
		"no fingerprint": {Certificate: cert, Send: send},
	} {
		if d, err := StartDTLS(cfg); err == nil {
			d.Close()
			t.Errorf("%s: started", name)
		}
	}
}

// Feed never blocks: with nobody reading, what does not fit the queue is
// dropped and counted; what was queued is a copy.
func TestFeedFullQueueDoesNotBlock(t *testing.T) {
	c := newFeedConn(func([]byte) {})
	pkt := []byte{22, 0xfe, 0xfd, 1}
	done := make(chan struct{})
	go func() {
		for range feedQueueLen + 10 {
			c.feed(pkt)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatal("feed blocked on a full queue")
	}
	if got := c.dropped.Load(); got != 10 {
		t.Fatalf("dropped %d, want 10", got)
	}
	pkt[3] = 99 // the caller reuses its buffer
	buf := make([]byte, 16)
	n, addr, err := c.ReadFrom(buf)
	if err != nil || !bytes.Equal(buf[:n], []byte{22, 0xfe, 0xfd, 1}) || addr.String() != (legAddr{}).String() {
		t.Fatalf("ReadFrom: % x from %v, %v", buf[:n], addr, err)
	}
	// A read deadline in the past (pion's way to cancel) and Close both
	// end a read.
	for range feedQueueLen - 1 {
		_, _, _ = c.ReadFrom(buf)
	}
	_ = c.SetReadDeadline(time.Unix(1, 0))
	if _, _, err := c.ReadFrom(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
	_ = c.SetReadDeadline(time.Time{})
	_ = c.Close()
	if _, _, err := c.ReadFrom(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after Close: %v", err)
	}
	c.feed(pkt)
	if c.dropped.Load() != 11 {
		t.Fatal("feed after Close not dropped")
	}
}
