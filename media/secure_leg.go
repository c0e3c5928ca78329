package media

import (
	"bytes"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/natsbc/natsbc/secmedia"
)

// secureLeg is natsbc's end of one stream's media security on one leg,
// while natsbc terminates it. Its own keys and credentials stay the same
// across re-offers, so a re-INVITE does not restart a working session.
// The session's mutex guards all but the atomics, which the packet path
// loads, and sendMu, which orders DTLS's writes before the relay's socket
// closes.
type secureLeg struct {
	log *slog.Logger

	// How natsbc last wrote this stream to the peer, and what it wrote
	// (secure_leg_sdp.go).
	wrote   wire
	proto   string
	sdesTag int
	sdesKey []byte // natsbc's master key||salt
	suite   string
	setup   string // natsbc's a=setup
	ufrag   string // natsbc's ICE credentials (RFC 8839 §5.4)
	pwd     string
	mid     string

	remote  []string // the fingerprints the running DTLS checks
	client  bool     // natsbc's role in the running DTLS session
	peerKey []byte   // the SDES key the transform decrypts with

	// sendMu: DTLS writes through the leg's relay socket hold it for
	// reading; release takes it for writing and sets released, so no write
	// lands after the socket (and its descriptor number) is gone.
	sendMu   sync.RWMutex
	released bool

	// What the packet path loads.
	transform atomic.Pointer[secmedia.Transform]
	ice       atomic.Pointer[secmedia.ICELite]
	dtls      atomic.Pointer[secmedia.DTLS]
	// dtlsFailed: the running handshake failed or timed out; the next
	// SDP of the stream starts a new one.
	dtlsFailed atomic.Bool
}

func newSecureLeg(log *slog.Logger) *secureLeg {
	ufrag, pwd := secmedia.NewICECredentials()
	return &secureLeg{log: log, ufrag: ufrag, pwd: pwd}
}

// ready is the transform of a settled leg, nil while keys are not agreed.
func (l *secureLeg) ready() *secmedia.Transform { return l.transform.Load() }

// dtlsStarter starts a DTLS session towards the peer (the session's, so
// this file needs no socket).
type dtlsStarter func(l *secureLeg, client bool, remote []secmedia.Fingerprint) (*secmedia.DTLS, error)

// settle brings keys in line with what natsbc wrote and the peer's last
// SDP: an SDES transform once both keys are known, a DTLS session once both
// ends said DTLS, ICE-lite answering with the peer's ufrag. It is called
// after every SDP of the stream from either leg.
func (l *secureLeg) settle(peer Stream, known bool, startDTLS dtlsStarter) {
	if l.released || !known {
		return
	}
	in := wireOf(peer)
	switch {
	case in == wirePlain && l.wrote != wirePlain:
		// The peer answered natsbc's secure offer with plain RTP, or
		// re-offered plain: its choice (RFC 3264 §6 lets it decline the
		// profile only by declining the stream, but phones do this). natsbc
		// relays plain RTP to it from now on, and says so.
		l.log.Warn("peer speaks plain RTP where natsbc offered SRTP: relaying plain RTP to it",
			"offered", l.proto, "answered", peer.Proto)
		l.wrote = wirePlain
		l.stopDTLS()
		l.transform.Store(nil)
	case in != l.wrote:
		// Keys are not agreed yet: natsbc's answer is still to come.
	case in == wireSDES:
		l.settleSDES(peer)
	case in == wireDTLS:
		l.settleDTLS(peer, startDTLS)
	}
}

// settleSDES keys the transform with the crypto line of the peer that
// answers natsbc's (same tag and suite). A new peer key keys decryption
// anew and keeps natsbc's encryption where it was (Transform.WithRemote):
// natsbc's key is the same, so its packet indexes must go on.
func (l *secureLeg) settleSDES(peer Stream) {
	l.stopDTLS()
	for _, c := range peer.Crypto {
		if c.Tag != l.sdesTag || c.Suite != l.suite {
			continue
		}
		cur := l.transform.Load()
		if cur != nil && bytes.Equal(c.KeySalt, l.peerKey) {
			return
		}
		var t *secmedia.Transform
		var err error
		if cur != nil {
			t, err = cur.WithRemote(c.KeySalt)
		} else {
			profile, _ := secmedia.Profile(c.Suite)
			t, err = secmedia.NewTransform(profile, l.sdesKey, c.KeySalt)
		}
		if err != nil {
			l.log.Warn("SDES key refused", "suite", c.Suite, "err", err)
			return
		}
		l.peerKey = c.KeySalt
		l.transform.Store(t)
		return
	}
	l.log.Warn("peer's a=crypto does not answer natsbc's", "tag", l.sdesTag, "suite", l.suite)
	l.transform.Store(nil)
}

func (l *secureLeg) settleDTLS(peer Stream, startDTLS dtlsStarter) {
	l.ice.Store(&secmedia.ICELite{LocalUfrag: l.ufrag, LocalPwd: l.pwd, RemoteUfrag: peer.Security.ICEUfrag})
	if l.dtls.Load() != nil && !l.dtlsFailed.Load() && slices.Equal(l.remote, peer.Security.Fingerprints) {
		return // the same peer certificate: the session goes on (RFC 8842 §5.4)
	}
	l.stopDTLS()
	var fps []secmedia.Fingerprint
	for _, v := range peer.Security.Fingerprints {
		if fp, err := secmedia.ParseFingerprint(v); err == nil {
			fps = append(fps, fp)
		}
	}
	if len(fps) == 0 {
		l.log.Warn("DTLS peer gave no usable fingerprint", "fingerprints", peer.Security.Fingerprints)
		return
	}
	// RFC 5763 §5: natsbc is the DTLS client when it is active.
	client := l.setup == "active" || (l.setup == "actpass" && peer.Security.Setup == "passive")
	l.dtlsFailed.Store(false)
	d, err := startDTLS(l, client, fps)
	if err != nil {
		l.log.Warn("DTLS not started", "err", err)
		return
	}
	l.dtls.Store(d)
	l.remote, l.client = slices.Clone(peer.Security.Fingerprints), client
}

// dtlsRunning reports whether a DTLS session goes on, whose role natsbc's
// SDP must keep (RFC 8842 §5.5: roles do not change in a session).
func (l *secureLeg) dtlsRunning() bool { return l.dtls.Load() != nil && !l.dtlsFailed.Load() }

func (l *secureLeg) stopDTLS() {
	if d := l.dtls.Swap(nil); d != nil {
		d.Close()
		l.remote = nil
		l.transform.Store(nil)
	}
}

// send writes a DTLS datagram with write unless the leg was released.
func (l *secureLeg) send(write func()) {
	l.sendMu.RLock()
	defer l.sendMu.RUnlock()
	if !l.released {
		write()
	}
}

// release ends the leg's DTLS session; nothing is sent or decrypted after.
// The session calls it before it closes the relay's sockets.
func (l *secureLeg) release() {
	l.sendMu.Lock()
	l.released = true
	l.sendMu.Unlock()
	l.stopDTLS()
	l.transform.Store(nil)
}
