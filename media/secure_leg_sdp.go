package media

import (
	"errors"
	"strconv"

	"github.com/natsbc/natsbc/secmedia"
)

// sdesOfferSuite is the suite natsbc offers a peer it speaks SDES-SRTP to:
// the one RFC 4568 §6.2 and every SRTP phone support.
const sdesOfferSuite = "AES_CM_128_HMAC_SHA1_80"

// output decides how natsbc writes stream in (from the other leg) to this
// leg's peer, whose own last SDP of the stream is peer (known false when
// it has sent none), and whose mode is mode: an answer (or a re-offer)
// speaks as the peer does; a first offer as the mode says.
func (l *secureLeg) output(in Stream, peer Stream, known bool, mode SecurityMode, fingerprint func() (string, error)) (*secureOut, error) {
	w := wireFor(mode)
	if known {
		w = wireOf(peer)
	}
	out := &secureOut{wire: w, dropMux: known && !peer.RTCPMux}
	switch w {
	case wirePlain:
		out.proto = plainProto(in)
	case wireSDES:
		out.proto = "RTP/SAVP"
		if err := l.chooseSDES(peer, known); err != nil {
			return nil, err
		}
		out.crypto = strconv.Itoa(l.sdesTag) + " " + l.suite + " inline:" + secmedia.InlineKey(l.sdesKey)
	case wireDTLS:
		out.proto = "UDP/TLS/RTP/SAVPF"
		fp, err := fingerprint()
		if err != nil {
			return nil, err
		}
		out.fingerprint, out.ufrag, out.pwd = fp, l.ufrag, l.pwd
		out.setup = l.chooseSetup(peer, known)
		// RFC 5888 §9.1: an answer names the sections as the offer did,
		// and has no a=mid where the offer had none.
		out.mid = strconv.Itoa(in.Index)
		if known {
			out.mid = peer.Security.MID
		}
		l.setup, l.mid = out.setup, out.mid
		if !known {
			// A browser checks connectivity as soon as it has natsbc's
			// offer, before natsbc has its answer: answer those checks
			// with natsbc's credentials (its ufrag is not known yet).
			l.ice.Store(&secmedia.ICELite{LocalUfrag: l.ufrag, LocalPwd: l.pwd})
		}
	}
	if known && peer.Proto != "" {
		out.proto = peer.Proto
	}
	l.wrote, l.proto = w, out.proto
	return out, nil
}

// chooseSetup is natsbc's a=setup (RFC 5763 §5, RFC 4145 §4): the role of
// a running DTLS session as it is (RFC 8842 §5.5); else actpass in an
// offer, and in an answer the role the peer left natsbc, passive (natsbc
// the DTLS server) when the peer may take either.
func (l *secureLeg) chooseSetup(peer Stream, known bool) string {
	switch {
	case l.dtlsRunning() && l.client:
		return "active"
	case l.dtlsRunning():
		return "passive"
	case !known:
		return "actpass"
	case peer.Security.Setup == "passive":
		return "active"
	}
	return "passive"
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
		l.transform.Store(nil) // a new key of natsbc's: a new transform
	}
	l.sdesTag = tag
	return nil
}
