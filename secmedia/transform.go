package secmedia

import (
	"fmt"
	"sync"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// replayWindow is how far behind the newest packet an SRTP or SRTCP packet
// may arrive and still be accepted once (RFC 3711 §3.3.2; 128 is libsrtp's
// default). Without replay protection a captured packet re-sent to natsbc
// would be decrypted again and reach the plain-RTP side as new media.
const replayWindow = 128

// Transform encrypts what natsbc sends to one peer and decrypts what that
// peer sends (RFC 3711): the SRTP end of one call leg.
//
// pion's srtp.Context is not safe for concurrent use and keeps per-SSRC
// state for one direction, so each of the four directions has its own
// context and lock: the relay's readers for the two sockets of a leg (or
// the reader of one muxed socket) never wait on each other.
//
// The encrypting directions are pointers so that WithRemote can share them:
// a peer that changes its key must not make natsbc restart its own
// encryption under the same key (RFC 3711 §9.1: an index must never be
// used twice with one key).
type Transform struct {
	encRTP, decRTP, encRTCP, decRTCP *direction
	profile                          srtp.ProtectionProfile
	overhead                         int
}

// direction is one of a Transform's four contexts with the headers pion
// parses into, reused so that a packet allocates nothing.
type direction struct {
	mu      sync.Mutex
	ctx     *srtp.Context
	rtpHdr  rtp.Header
	rtcpHdr rtcp.Header
}

// NewTransform builds the SRTP transform of one leg. localKeySalt is the
// master key || salt natsbc encrypts with (the one it announced, or its
// role's DTLS-SRTP key); remoteKeySalt is the peer's, which natsbc decrypts
// with. Both must have profile's key and salt lengths.
func NewTransform(profile srtp.ProtectionProfile, localKeySalt, remoteKeySalt []byte) (*Transform, error) {
	keyLen, saltLen, err := keySaltLen(profile)
	if err != nil {
		return nil, err
	}
	for _, k := range [][]byte{localKeySalt, remoteKeySalt} {
		if len(k) != keyLen+saltLen {
			return nil, fmt.Errorf("%w: %d bytes, %v needs %d", ErrKeyLength, len(k), profile, keyLen+saltLen)
		}
	}
	t := &Transform{profile: profile}
	if t.encRTP, err = newDirection(profile, localKeySalt, keyLen); err != nil {
		return nil, err
	}
	if t.encRTCP, err = newDirection(profile, localKeySalt, keyLen); err != nil {
		return nil, err
	}
	if err := t.keyDecryption(remoteKeySalt, keyLen); err != nil {
		return nil, err
	}
	if t.overhead, err = overhead(profile); err != nil {
		return nil, err
	}
	return t, nil
}

// WithRemote is t for a peer that now encrypts with remoteKeySalt (an SDES
// re-offer with a new key): decryption starts afresh with that key while
// natsbc's encryption goes on where it was, same key, same indexes.
func (t *Transform) WithRemote(remoteKeySalt []byte) (*Transform, error) {
	keyLen, saltLen, err := keySaltLen(t.profile)
	if err != nil {
		return nil, err
	}
	if len(remoteKeySalt) != keyLen+saltLen {
		return nil, fmt.Errorf("%w: %d bytes, %v needs %d", ErrKeyLength, len(remoteKeySalt), t.profile, keyLen+saltLen)
	}
	n := &Transform{encRTP: t.encRTP, encRTCP: t.encRTCP, profile: t.profile, overhead: t.overhead}
	if err := n.keyDecryption(remoteKeySalt, keyLen); err != nil {
		return nil, err
	}
	return n, nil
}

// keyDecryption makes the decrypting directions, with replay protection.
func (t *Transform) keyDecryption(remoteKeySalt []byte, keyLen int) error {
	var err error
	if t.decRTP, err = newDirection(t.profile, remoteKeySalt, keyLen, srtp.SRTPReplayProtection(replayWindow)); err != nil {
		return err
	}
	t.decRTCP, err = newDirection(t.profile, remoteKeySalt, keyLen, srtp.SRTCPReplayProtection(replayWindow))
	return err
}

func newDirection(profile srtp.ProtectionProfile, keySalt []byte, keyLen int, opts ...srtp.ContextOption) (*direction, error) {
	ctx, err := srtp.CreateContext(keySalt[:keyLen], keySalt[keyLen:], profile, opts...)
	if err != nil {
		return nil, err
	}
	return &direction{ctx: ctx}, nil
}

// overhead is the most bytes protecting a packet adds: SRTCP's, whose
// trailer has the E flag and SRTCP index (RFC 3711 §3.4) besides the tag
// (an HMAC tag, or RFC 7714's GCM tag).
func overhead(p srtp.ProtectionProfile) (int, error) {
	const srtcpIndexLen = 4
	tag, err := p.AuthTagRTCPLen()
	if err != nil {
		return 0, err
	}
	aead, err := p.AEADAuthTagLen()
	if err != nil {
		return 0, err
	}
	return tag + aead + srtcpIndexLen, nil
}

// Overhead is the most bytes EncryptRTP or EncryptRTCP adds to a packet.
func (t *Transform) Overhead() int { return t.overhead }

// EncryptRTP protects an RTP packet natsbc sends to the peer (RFC 3711
// §3.3), appending the SRTP packet to dst[:0]. With cap(dst) of at least
// len(pkt)+Overhead() nothing is allocated; dst may be pkt's own buffer.
func (t *Transform) EncryptRTP(dst, pkt []byte) ([]byte, error) {
	d := t.encRTP
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx.EncryptRTP(dst[:0], pkt, &d.rtpHdr)
}

// DecryptRTP authenticates and decrypts an SRTP packet from the peer,
// appending the RTP packet to dst[:0]; dst may be pkt (in place). A packet
// whose tag does not verify, or one already received (replay), is an
// error and leaves no state behind.
func (t *Transform) DecryptRTP(dst, pkt []byte) ([]byte, error) {
	d := t.decRTP
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx.DecryptRTP(dst[:0], pkt, &d.rtpHdr)
}

// EncryptRTCP protects an RTCP compound packet natsbc sends to the peer
// (RFC 3711 §3.4), appending the SRTCP packet to dst[:0].
func (t *Transform) EncryptRTCP(dst, pkt []byte) ([]byte, error) {
	d := t.encRTCP
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx.EncryptRTCP(dst[:0], pkt, &d.rtcpHdr)
}

// DecryptRTCP authenticates and decrypts an SRTCP packet from the peer,
// appending the RTCP packet to dst[:0]; dst may be pkt (in place).
func (t *Transform) DecryptRTCP(dst, pkt []byte) ([]byte, error) {
	d := t.decRTCP
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx.DecryptRTCP(dst[:0], pkt, &d.rtcpHdr)
}
