package media

import (
	"bytes"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/natsbc/natsbc/secmedia"
)

// sdesOfferSuite is the suite natsbc offers a peer it speaks SDES-SRTP to:
// the one RFC 4568 §6.2 and every SRTP phone support.
const sdesOfferSuite = "AES_CM_128_HMAC_SHA1_80"

// secureLeg is natsbc's end of one stream's media security on one leg,
// while natsbc terminates it. Its own keys and credentials stay the same
// across re-offers, so a re-INVITE does not restart a working session.
// The session's mutex guards all but transform and ice, which the packet
// path loads.
type secureLeg struct {
	log *slog.Logger

	// How natsbc last wrote this stream to the peer, and what it wrote.
	wrote    wire
	proto    string
	sdesTag  int
	sdesKey  []byte // natsbc's master key||salt
	suite    string
	setup    string // natsbc's a=setup
	ufrag    string // natsbc's ICE credentials (RFC 8839 §5.4)
	pwd      string
	mid      string
	remote   []string // the fingerprints the running DTLS checks
	peerKey  []byte   // the SDES key the transform decrypts with
	released bool

	// What the packet path loads.
	transform atomic.Pointer[secmedia.Transform]
	ice       atomic.Pointer[secmedia.ICELite]
	dtls      atomic.Pointer[secmedia.DTLS]
}

func newSecureLeg(log *slog.Logger) *secureLeg {
	ufrag, pwd := secmedia.NewICECredentials()
	return &secureLeg{log: log, ufrag: ufrag, pwd: pwd}
}

// ready is the transform of a settled leg, nil while keys are not agreed.
func (l *secureLeg) ready() *secmedia.Transform { return l.transform.Load() }

// output decides how natsbc writes stream in (from the other leg) to this
// leg's peer, whose own last SDP of the stream is peer (ok false when it
// has sent none), and whose mode is mode.
func (l *secureLeg) output(in Stream, peer Stream, known bool, mode SecurityMode, fingerprint func() (string, error)) (*secureOut, error) {
	w := wireFor(mode)
	if known {
		w = wireOf(peer) // an answer (or a re-offer) speaks as the peer does
	}
	out := &secureOut{wire: w, dropMux: known && !peer.RTCPMux}
	switch w {
	case wirePlain:
		out.proto = plainProto(in)
		if known && peer.Proto != "" {
			out.proto = peer.Proto
		}
	case wireSDES:
		out.proto = "RTP/SAVP"
		if known {
			out.proto = peer.Proto
		}
		if err := l.chooseSDES(peer, known); err != nil {
			return nil, err
		}
		out.crypto = strconv.Itoa(l.sdesTag) + " " + l.suite + " inline:" + secmedia.InlineKey(l.sdesKey)
	case wireDTLS:
		out.proto = "UDP/TLS/RTP/SAVPF"
		if known {
			out.proto = peer.Proto
		}
		fp, err := fingerprint()
		if err != nil {
			return nil, err
		}
		out.fingerprint, out.ufrag, out.pwd = fp, l.ufrag, l.pwd
		// RFC 5763 §5: the offerer says actpass; the answerer picks the
		// other role of what was offered, and natsbc prefers to be the
		// DTLS server (passive), as a browser offering actpass expects.
		switch {
		case !known:
			out.setup = "actpass"
		case peer.Security.Setup == "passive":
			out.setup = "active"
		default:
			out.setup = "passive"
		}
		// RFC 5888 §9.1: an answer names the sections as the offer did,
		// and has no a=mid where the offer had none.
		out.mid = strconv.Itoa(in.Index)
		if known {
			out.mid = peer.Security.MID
		}
		l.setup, l.mid = out.setup, out.mid
	}
	l.wrote, l.proto = w, out.proto
	return out, nil
}

// chooseSDES picks natsbc's crypto line: in an answer the first suite of
// the peer's offer natsbc supports, under the peer's tag (RFC 4568 §7.1.2);
// in an offer sdesOfferSuite under tag 1. A key, once made, is kept.
func (l *secureLeg) chooseSDES(peer Stream, known bool) error {
	tag, suite := 1, sdesOfferSuite
	if known {
		found := false
		for _, c := range peer.Crypto {
			if _, ok := secmedia.Profile(c.Suite); ok && !c.MKI {
				tag, suite, found = c.Tag, c.Suite, true
				break
			}
		}
		if !found {
			return errors.New("no a=crypto suite natsbc supports")
		}
	}
	if l.suite != suite || l.sdesKey == nil {
		key, err := secmedia.NewKeySalt(suite)
		if err != nil {
			return err
		}
		l.sdesKey, l.suite = key, suite
	}
	l.sdesTag = tag
	return nil
}

// dtlsStarter starts a DTLS session towards the peer (the session's, so
// this file needs no socket).
type dtlsStarter func(client bool, remote []secmedia.Fingerprint, onReady func(*secmedia.Transform)) (*secmedia.DTLS, error)

// settle brings keys in line with what natsbc wrote and the peer's last
// SDP: an SDES transform once both keys are known, a DTLS session once both
// ends said DTLS, ICE-lite answering with the peer's ufrag. It is called
// after every SDP of the stream from either leg.
func (l *secureLeg) settle(peer Stream, known bool, startDTLS dtlsStarter) {
	if l.released {
		return
	}
	in := wirePlain
	if known {
		in = wireOf(peer)
	}
	if in != l.wrote || in == wirePlain {
		if l.wrote == wirePlain || (known && in == wirePlain) {
			l.stopDTLS()
			l.transform.Store(nil)
		}
		return // keys not agreed yet: the answer is still to come
	}
	switch in {
	case wireSDES:
		l.settleSDES(peer)
	case wireDTLS:
		l.settleDTLS(peer, startDTLS)
	}
}

func (l *secureLeg) settleSDES(peer Stream) {
	l.stopDTLS()
	for _, c := range peer.Crypto {
		if c.Tag != l.sdesTag || c.Suite != l.suite {
			continue
		}
		if bytes.Equal(c.KeySalt, l.peerKey) && l.transform.Load() != nil {
			return
		}
		profile, _ := secmedia.Profile(c.Suite)
		t, err := secmedia.NewTransform(profile, l.sdesKey, c.KeySalt)
		if err != nil {
			l.log.Warn("SDES key refused", "suite", c.Suite, "err", err)
			l.transform.Store(nil)
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
	ice := &secmedia.ICELite{LocalUfrag: l.ufrag, LocalPwd: l.pwd, RemoteUfrag: peer.Security.ICEUfrag}
	if cur := l.ice.Load(); cur == nil || *cur != *ice {
		l.ice.Store(ice)
	}
	if l.dtls.Load() != nil && slices.Equal(l.remote, peer.Security.Fingerprints) {
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
	d, err := startDTLS(client, fps, func(t *secmedia.Transform) { l.transform.Store(t) })
	if err != nil {
		l.log.Warn("DTLS not started", "err", err)
		return
	}
	l.dtls.Store(d)
	l.remote = slices.Clone(peer.Security.Fingerprints)
}

func (l *secureLeg) stopDTLS() {
	if d := l.dtls.Swap(nil); d != nil {
		d.Close()
		l.remote = nil
		l.transform.Store(nil)
	}
}

// release ends the leg's DTLS session; nothing is sent or decrypted after.
func (l *secureLeg) release() {
	l.released = true
	l.stopDTLS()
	l.transform.Store(nil)
}
