package media

import (
	"encoding/binary"
	"sync"

	"github.com/pion/srtp/v3"

	"github.com/natsbc/natsbc/secmedia"
)

// srtpAuth decides whether a packet was sent by the holder of a stream's
// SDES key: its SRTP (or SRTCP) authentication tag verifies with one of the
// keys the peer's SDP offered (RFC 3711 §3.4: the tag covers the header,
// the encrypted payload and the rollover counter). Latching with it
// (latching: srtp-auth) closes RTP bleed and injection for SRTP calls: a
// stranger who finds a relay port cannot take over its media without the
// key, wherever it sends from (CVE-2025-53399's class).
//
// It runs only for packets from a source the leg is not latched to, so
// the relay's hot path never decrypts.
type srtpAuth struct {
	mu   sync.Mutex
	keys []*srtp.Context
	buf  []byte
}

// newSRTPAuth builds the check from a stream's a=crypto lines; nil when
// none has a suite and key natsbc can check (then latching falls back to
// the strict address rule).
func newSRTPAuth(cryptos []Crypto) *srtpAuth {
	a := &srtpAuth{}
	for _, c := range cryptos {
		profile, ok := secmedia.Profile(c.Suite)
		if !ok || c.MKI {
			continue
		}
		keyLen, err1 := profile.KeyLen()
		saltLen, err2 := profile.SaltLen()
		if err1 != nil || err2 != nil || len(c.KeySalt) != keyLen+saltLen {
			continue
		}
		ctx, err := srtp.CreateContext(c.KeySalt[:keyLen], c.KeySalt[keyLen:], profile)
		if err != nil {
			continue
		}
		a.keys = append(a.keys, ctx)
	}
	if len(a.keys) == 0 {
		return nil
	}
	return a
}

// rolloverHint is the relay's count of a stream's sequence wraps
// (rxStats.rollovers); known is false for an SSRC the relay has not seen.
type rolloverHint struct {
	count uint32
	known bool
}

// verifies reports whether pkt (SRTP, or SRTCP when rtcp) authenticates
// with one of the keys. An SRTP tag also covers the sender's rollover
// counter (ROC), which the packet does not carry: a context that never saw
// the stream assumes 0, so a phone that moves after 65,536 packets (22
// minutes at 50 a second) would never re-latch. For the SSRC the relay
// follows, its count of wraps is tried as it is and one higher (the sender
// may have wrapped in packets lost on the way; SRTCP carries its index,
// RFC 3711 §3.4). Two tries at most per key, so a stranger's packet costs
// a bounded amount of HMAC; and an SSRC the relay does not follow gets no
// state in pion's context (SetROC would make one per forged SSRC).
func (a *srtpAuth) verifies(pkt []byte, rtcp bool, roc rolloverHint) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ctx := range a.keys {
		var err error
		if rtcp {
			a.buf, err = ctx.DecryptRTCP(a.buf[:0], pkt, nil)
			if err == nil {
				return true
			}
			continue
		}
		if !roc.known || len(pkt) < rtpHeaderLen {
			if a.buf, err = ctx.DecryptRTP(a.buf[:0], pkt, nil); err == nil {
				return true
			}
			continue
		}
		ssrc := binary.BigEndian.Uint32(pkt[8:12])
		for _, try := range [2]uint32{roc.count, roc.count + 1} {
			ctx.SetROC(ssrc, try)
			if a.buf, err = ctx.DecryptRTP(a.buf[:0], pkt, nil); err == nil {
				return true
			}
		}
	}
	return false
}
