package secmedia

import "errors"

// Errors callers can test for with errors.Is.
var (
	// ErrUnknownSuite: an SDES crypto-suite name natsbc has no profile for.
	ErrUnknownSuite = errors.New("secmedia: unknown SRTP crypto-suite")
	// ErrKeyLength: a master key || salt of the wrong length for its profile.
	ErrKeyLength = errors.New("secmedia: master key and salt of the wrong length")
	// ErrFingerprint: an a=fingerprint value that cannot be read.
	ErrFingerprint = errors.New("secmedia: malformed fingerprint")
	// ErrPeerCertificate: the DTLS peer's certificate matches none of the
	// fingerprints its SDP announced.
	ErrPeerCertificate = errors.New("secmedia: peer certificate matches no announced fingerprint")
	// ErrNoSRTPProfile: the DTLS handshake ended without a use_srtp
	// profile natsbc knows.
	ErrNoSRTPProfile = errors.New("secmedia: DTLS negotiated no SRTP protection profile")
)
