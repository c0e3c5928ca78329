package secmedia

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"
)

// DefaultHandshakeTimeout bounds a DTLS handshake when DTLSConfig leaves
// HandshakeTimeout zero: long enough for a peer whose first flights are
// lost (RFC 6347 §4.2.4.1 backs retransmissions off from 1 s), short
// enough that a leg without keys does not linger.
const DefaultHandshakeTimeout = 30 * time.Second

// dtlsReadBuffer holds one DTLS record's application data. natsbc's
// DTLS-SRTP associations carry none (the media goes as SRTP), so what
// arrives is read and dropped; pion refuses a record larger than the buffer.
const dtlsReadBuffer = 2048

// DTLSConfig sets up one leg's DTLS-SRTP handshake (RFC 5763, RFC 5764).
type DTLSConfig struct {
	// Certificate is natsbc's identity, announced in the SDP natsbc sent
	// on this leg (a=fingerprint).
	Certificate *Certificate
	// Client is natsbc's role: true when the peer's SDP said
	// a=setup:passive (RFC 4145 §4, RFC 5763 §5), false when natsbc is
	// the DTLS server.
	Client bool
	// Remote holds the peer's a=fingerprint values; its certificate must
	// match one of them (RFC 5763 §5: the fingerprint is the trust).
	Remote []Fingerprint
	// Send writes one DTLS datagram to the peer; the relay picks the
	// address. It must not block and must not keep pkt after returning.
	Send func(pkt []byte)
	// OnReady is called once, from the session's own goroutine, with the
	// leg's SRTP transform when keys have been exported. It must not call
	// Close (Close waits for that goroutine).
	OnReady func(*Transform)
	// OnFailed is called once, from the same goroutine, when the
	// handshake fails or times out; not when Close ends it. It must not
	// call Close either.
	OnFailed func(error)
	// Logger gets pion's DTLS log; nil logs nothing.
	Logger *slog.Logger
	// HandshakeTimeout bounds the handshake; zero means
	// DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
}

// DTLS is one leg's DTLS-SRTP session: pion/dtls running over the
// datagrams the relay feeds it, ending with an SRTP Transform keyed from
// the handshake (RFC 5764 §4.2).
type DTLS struct {
	cfg       DTLSConfig
	feedConn  *feedConn
	conn      *dtls.Conn
	transform atomic.Pointer[Transform]

	// ctx is cancelled by Close only, so the session goroutine can tell
	// its owner's Close from a failed handshake.
	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// StartDTLS starts the handshake in natsbc's role and returns at once;
// the session's goroutine runs until Close. As a client natsbc sends its
// ClientHello right away; as a server it waits for the peer's.
func StartDTLS(cfg DTLSConfig) (*DTLS, error) {
	switch {
	case cfg.Certificate == nil:
		return nil, errors.New("secmedia: DTLS without a certificate")
	case cfg.Send == nil:
		return nil, errors.New("secmedia: DTLS without a send function")
	case len(cfg.Remote) == 0:
		// Without a fingerprint anyone could complete the handshake.
		return nil, fmt.Errorf("%w: the peer announced none", ErrPeerCertificate)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	d := &DTLS{cfg: cfg, feedConn: newFeedConn(cfg.Send)}
	var err error
	if cfg.Client {
		d.conn, err = dtls.ClientWithOptions(d.feedConn, legAddr{}, toClient(d.options())...)
	} else {
		// RFC 5763 §5: both ends present certificates, so the server asks
		// for the client's; its fingerprint, not a CA, vouches for it.
		opts := append(toServer(d.options()), dtls.WithClientAuth(dtls.RequireAnyClientCert))
		d.conn, err = dtls.ServerWithOptions(d.feedConn, legAddr{}, opts...)
	}
	if err != nil {
		return nil, err
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.wg.Add(1)
	go d.run()
	return d, nil
}

// options are the settings both roles share.
func (d *DTLS) options() []dtls.Option {
	return []dtls.Option{
		dtls.WithCertificates(d.cfg.Certificate.tls),
		// RFC 5764 §4.1.2: the use_srtp profiles natsbc offers (client) or
		// picks from (server), in its order of preference.
		dtls.WithSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80),
		// RFC 7627: without the extended master secret, a man in the
		// middle can bring two handshakes to the same master secret.
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		// The certificate is self-signed: no chain to verify. The trust is
		// the fingerprint, checked in verifyPeer by both roles.
		dtls.WithInsecureSkipVerify(true),
		dtls.WithVerifyConnection(d.verifyPeer),
		dtls.WithLoggerFactory(slogFactory{d.cfg.Logger}),
	}
}

func toClient(opts []dtls.Option) []dtls.ClientOption {
	out := make([]dtls.ClientOption, len(opts))
	for i, o := range opts {
		out[i] = o
	}
	return out
}

func toServer(opts []dtls.Option) []dtls.ServerOption {
	out := make([]dtls.ServerOption, len(opts), len(opts)+1)
	for i, o := range opts {
		out[i] = o
	}
	return out
}

// verifyPeer accepts the handshake only if the peer's certificate is one
// its SDP announced (RFC 5763 §5: the certificate must match a fingerprint
// of the SDP, else the session is refused). A peer that sends no
// certificate fails too.
func (d *DTLS) verifyPeer(state *dtls.State) error {
	if len(state.PeerCertificates) == 0 {
		return fmt.Errorf("%w: the peer sent no certificate", ErrPeerCertificate)
	}
	for _, f := range d.cfg.Remote {
		if f.Matches(state.PeerCertificates[0]) {
			return nil
		}
	}
	return ErrPeerCertificate
}

// run is the session's goroutine: the handshake, the transform, then
// reading until Close so that the peer's retransmitted flights and alerts
// are answered (RFC 6347 §4.2.4: the last flight is resent when the
// peer's retransmission shows it was lost).
func (d *DTLS) run() {
	defer d.wg.Done()
	t, err := d.handshake()
	if err != nil {
		_ = d.conn.Close()
		if d.ctx.Err() == nil { // not ended by Close
			d.cfg.Logger.Info("DTLS handshake failed", "error", err)
			if d.cfg.OnFailed != nil {
				d.cfg.OnFailed(err)
			}
		}
		return
	}
	d.transform.Store(t)
	d.cfg.Logger.Debug("DTLS-SRTP keys exported", "client", d.cfg.Client)
	if d.cfg.OnReady != nil {
		d.cfg.OnReady(t)
	}
	buf := make([]byte, dtlsReadBuffer)
	for {
		_, err := d.conn.Read(buf)
		switch {
		case err == nil:
			// Application data: DTLS-SRTP has no use for it.
		case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), d.ctx.Err() != nil:
			// Close, or the peer's close_notify or fatal alert: the
			// Transform keeps the keys the handshake exported.
			return
		default:
			d.cfg.Logger.Debug("DTLS read", "error", err)
		}
	}
}

// handshake runs the DTLS handshake within the timeout and derives the
// leg's transform from it.
func (d *DTLS) handshake() (*Transform, error) {
	ctx, cancel := context.WithTimeout(d.ctx, d.cfg.HandshakeTimeout)
	defer cancel()
	if err := d.conn.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return exportTransform(d.conn, d.cfg.Client)
}

// Feed hands the session a DTLS datagram from the peer (RFC 7983 §7: first
// byte 20..63). It copies pkt and never blocks: a datagram that finds the
// queue full or the session closed is dropped and counted in Dropped.
func (d *DTLS) Feed(pkt []byte) { d.feedConn.feed(pkt) }

// Dropped counts the datagrams Feed dropped.
func (d *DTLS) Dropped() uint64 { return d.feedConn.dropped.Load() }

// Transform is the leg's SRTP transform, nil until the handshake is done.
func (d *DTLS) Transform() *Transform { return d.transform.Load() }

// Close ends the session, mid-handshake or after, and waits for the
// goroutine StartDTLS started. pion's own goroutines are ended too (their
// reads return once the connection closes) but not awaited: pion does
// not expose them. A Transform already handed out keeps working.
func (d *DTLS) Close() {
	d.closeOnce.Do(func() {
		d.cancel()
		// pion's Close waits for a handshake in progress to return, and
		// closes feedConn, which ends pion's reader.
		_ = d.conn.Close()
		_ = d.feedConn.Close()
	})
	d.wg.Wait()
}
