package media

import (
	"fmt"
	"strings"
)

// SecurityMode is how natsbc secures the media of one leg (media.srtp per
// peer or socket). When both legs of a call are SecurityPassthrough natsbc
// leaves media security to the endpoints, as it always did: a=crypto and
// DTLS fingerprints cross untouched and SRTP is relayed as it is. When
// either leg names another mode natsbc terminates the security of each leg
// itself (a back-to-back media endpoint, as RFC 7092 §3.2.2 describes):
// it decrypts what a peer sends, relays plain RTP inside, and encrypts
// with its own keys towards the other peer.
type SecurityMode int

const (
	// SecurityPassthrough leaves the leg's security to its peer.
	SecurityPassthrough SecurityMode = iota
	// SecurityNone: natsbc offers the leg plain RTP (RTP/AVP).
	SecurityNone
	// SecuritySDES: natsbc offers the leg SDES-SRTP (RFC 4568, RTP/SAVP
	// with its own a=crypto key).
	SecuritySDES
	// SecurityDTLS: natsbc offers the leg DTLS-SRTP (RFC 5763/5764,
	// UDP/TLS/RTP/SAVPF with its certificate's fingerprint), as an ICE-lite
	// agent (RFC 8445 §2.5) with rtcp-mux: what a browser needs.
	SecurityDTLS
)

var securityNames = [...]string{"passthrough", "none", "sdes", "dtls"}

func (m SecurityMode) String() string {
	if m >= 0 && int(m) < len(securityNames) {
		return securityNames[m]
	}
	return fmt.Sprintf("SecurityMode(%d)", int(m))
}

// ParseSecurityMode reads a media.srtp value; "" is passthrough.
func ParseSecurityMode(s string) (SecurityMode, error) {
	if s == "" {
		return SecurityPassthrough, nil
	}
	for i, name := range securityNames {
		if s == name {
			return SecurityMode(i), nil
		}
	}
	return 0, fmt.Errorf("%q is not one of %s", s, strings.Join(securityNames[:], ", "))
}

// wire is how a peer's media is secured on the wire, as its SDP says or
// as natsbc writes it.
type wire uint8

const (
	wirePlain wire = iota
	wireSDES
	wireDTLS
)

// wireOf tells how the author of st secures the stream.
func wireOf(st Stream) wire {
	switch {
	case st.DTLS():
		return wireDTLS
	case len(st.Crypto) > 0:
		return wireSDES
	}
	return wirePlain
}

// wireFor is how natsbc offers media to a peer of mode m that has not yet
// said how it speaks.
func wireFor(m SecurityMode) wire {
	switch m {
	case SecuritySDES:
		return wireSDES
	case SecurityDTLS:
		return wireDTLS
	}
	return wirePlain
}
