// Package media anchors RTP/RTCP and rewrites SDP per leg. It knows SDP and
// RTP, never SIP. In this first version it only defines the seam the
// signalling core calls; the relay comes with the media anchoring work.
package media

import "net/netip"

// Leg names a side of a call.
type Leg int

const (
	// LegA faces the caller (the side the INVITE came from).
	LegA Leg = iota
	// LegB faces the callee (the side natsbc sends the INVITE to).
	LegB
)

func (l Leg) String() string {
	if l == LegA {
		return "a"
	}
	return "b"
}

// Anchor creates one media session per call.
type Anchor interface {
	NewSession(callID string) (Session, error)
}

// Session rewrites the SDP bodies of one call.
type Session interface {
	// Rewrite takes a body that arrived on leg from and returns the body to
	// send on the other leg, whose local address is facing.
	Rewrite(from Leg, contentType string, body []byte, facing netip.Addr) ([]byte, error)
	// Close releases what the session holds.
	Close() error
}

// Passthrough is the Anchor that leaves bodies untouched.
type Passthrough struct{}

// NewSession returns a session that copies bodies unchanged.
func (Passthrough) NewSession(string) (Session, error) { return passthroughSession{}, nil }

type passthroughSession struct{}

func (passthroughSession) Rewrite(_ Leg, _ string, body []byte, _ netip.Addr) ([]byte, error) {
	return body, nil
}

func (passthroughSession) Close() error { return nil }
