// Package media anchors RTP/RTCP and rewrites SDP per leg. It knows SDP and
// RTP, never SIP: the signalling core tells a Session who sits on each leg
// (SetPeer) and hands it every SDP body (Rewrite); the session answers with
// the body for the other leg, pointing at natsbc's relay ports, and relays
// the media between the two legs until Close.
package media

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"time"
)

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

// other is the leg across the call from l.
func (l Leg) other() Leg { return 1 - l }

// DefaultMaxStreams is enough for audio, video, a presentation stream,
// text and fax, each with a spare.
const DefaultMaxStreams = 8

// Errors the signalling core maps to SIP answers.
var (
	// ErrUnparsableSDP: the body is not SDP natsbc can rewrite (sbc answers 488).
	ErrUnparsableSDP = errors.New("unparsable SDP")
	// ErrNoPorts: the relay port range is exhausted (sbc answers 503).
	ErrNoPorts = errors.New("no free relay ports")
	// ErrTooManyStreams: the SDP has more m= lines than Config.MaxStreams
	// (sbc answers 488); no port was taken for it.
	ErrTooManyStreams = errors.New("too many media streams")
)

// LatchMode says which sources may latch a leg's media (see Config.LatchWindow).
type LatchMode int

const (
	// LatchStrict lets only the peer's signalling source IP or its SDP
	// address latch (RFC 7362 §5.2, the CVE-2017-14114 "RTP bleed" defence).
	LatchStrict LatchMode = iota
	// LatchRelaxed lets any source latch, still only inside the window.
	LatchRelaxed
	// LatchSRTPAuth lets any source latch inside the window with a packet
	// whose SRTP authentication tag verifies with the key of the peer's
	// a=crypto (SDES); a stream without a usable key falls back to strict.
	LatchSRTPAuth
)

// PeerInfo describes who sits on a leg; sbc tells it before (or at) each
// Rewrite of that leg's SDP.
type PeerInfo struct {
	// SignalSource is where the peer's SIP came from.
	SignalSource netip.AddrPort
	// NATed peers get no media until their first packet, which sets where
	// natsbc sends (RFC 4961 symmetric RTP).
	NATed bool
	// Unproven peers (a phone whose address may be forged: not a configured
	// peer, not yet proven to receive at its address) are likewise sent
	// media only where their own media comes from, so a forged SDP cannot
	// point the relay's RTP at a third party (no amplification).
	Unproven bool
	Latch    LatchMode
	// KeepICE keeps a=candidate and a=ice-* in the SDP this peer sends
	// (default: removed, so the other side talks only to the relay).
	KeepICE bool
	// Security is how natsbc secures this leg's media (see SecurityMode).
	Security SecurityMode
}

// Anchor creates one media session per call.
type Anchor interface {
	// NewSession starts the media of one call. onTimeout (may be nil) is
	// called at most once, from a goroutine of the anchor, when every
	// stream that should carry media has been silent too long; it may call
	// Session.Close.
	NewSession(callID string, onTimeout func(reason string)) (Session, error)
}

// PortCounter is an Anchor that holds relay ports (RelayAnchor): how many
// pairs are free and how many there are, for metrics.
type PortCounter interface {
	PortPairs() (free, total int)
}

// Session is the media of one call.
type Session interface {
	// SetPeer records who sits on leg (call before Rewrite of a body from that leg).
	SetPeer(leg Leg, p PeerInfo)
	// Rewrite takes an SDP body that arrived on leg from (offer or answer,
	// initial or in a re-INVITE/UPDATE) and returns the body to send on the
	// other leg, where natsbc's local address is facing. It learns the
	// peer's media addresses on from and relays each m= line through a port
	// pair per leg, kept across re-offers for the same m= index. The SDP
	// part of a multipart body (RFC 5621) is rewritten and its other parts
	// kept; bodies without SDP pass through untouched. The o= line is
	// natsbc's own per leg (RFC 3264 §8).
	// Errors wrap ErrUnparsableSDP or ErrTooManyStreams (answer 488) or
	// ErrNoPorts (answer 503).
	Rewrite(from Leg, contentType string, body []byte, facing netip.Addr) ([]byte, error)
	// Answered says the call was answered (2xx). Silence counts only from
	// then on: before it a ringing call may carry early media or none at all
	// (a caller rarely sends before the 200), and a long ring is no fault.
	Answered()
	// Stats counts what was relayed so far, per direction.
	Stats() CallStats
	// Close stops relaying and returns the ports to the pool (they drain
	// before reuse). It is safe to call more than once.
	Close() error
}

// Config of a RelayAnchor; zero fields take DefaultConfig's values.
type Config struct {
	// PortMin..PortMax is the relay range; pairs start at an even port
	// (RTP even, RTCP the odd one above, RFC 3550 §11).
	PortMin, PortMax int
	// Drain is how long a freed pair rests before reuse, so late packets of
	// an ended call never reach the next one.
	Drain time.Duration
	// Timeout: when no stream whose SDP says it sends (sendrecv/sendonly)
	// has carried media from either leg for this long, onTimeout ends the
	// call.
	Timeout time.Duration
	// HoldTimeout replaces Timeout while the call is on hold (phones on
	// hold often send nothing at all).
	HoldTimeout time.Duration
	// LatchWindow: after each SDP of a stream (offer or answer, from either
	// leg) both of that stream's peers may (re-)latch for this long. Both,
	// because a peer starts sending once it sees the other side's SDP, which
	// may come long after its own (a ringing callee). Outside the window
	// only the latched source is relayed.
	LatchWindow time.Duration
	// MaxStreams bounds the m= lines of one SDP. Each relayed one takes a
	// port pair per leg, so without a bound a handful of offers with many
	// m= lines empties the pool for everyone.
	MaxStreams int
	// ListenIP is where relay sockets bind; the unspecified address lets the
	// kernel pick the source facing each peer.
	ListenIP netip.Addr
	// Listen opens a relay socket (tests inject their own).
	Listen func(network string, laddr netip.AddrPort) (net.PacketConn, error)
	Logger *slog.Logger
	// OnRTCP, when set, sees each RTCP packet the relay forwards, from the
	// peer that sent it to the one it goes to, with the Call-ID the session
	// was made for (HEP export). It runs on the packet path: it must not
	// block nor keep pkt.
	OnRTCP func(callID string, from, to netip.AddrPort, pkt []byte)
}

// DefaultConfig returns the defaults: ports 20000-29999, 30 s drain, 60 s
// media timeout (2 h on hold), a 10 s latch window, all addresses.
func DefaultConfig() Config {
	return Config{
		PortMin:     20000,
		PortMax:     29999,
		Drain:       30 * time.Second,
		Timeout:     60 * time.Second,
		HoldTimeout: 2 * time.Hour,
		LatchWindow: 10 * time.Second,
		MaxStreams:  DefaultMaxStreams,
		ListenIP:    netip.IPv4Unspecified(),
		Listen:      listenUDP,
		Logger:      slog.Default(),
	}
}

func listenUDP(network string, laddr netip.AddrPort) (net.PacketConn, error) {
	return net.ListenUDP(network, net.UDPAddrFromAddrPort(laddr))
}

// Passthrough is the Anchor that leaves bodies untouched (media anchoring off).
type Passthrough struct{}

// NewSession returns a session that copies bodies unchanged and never times out.
func (Passthrough) NewSession(string, func(string)) (Session, error) {
	return passthroughSession{}, nil
}

type passthroughSession struct{}

func (passthroughSession) SetPeer(Leg, PeerInfo) {}

func (passthroughSession) Rewrite(_ Leg, _ string, body []byte, _ netip.Addr) ([]byte, error) {
	return body, nil
}

func (passthroughSession) Answered() {}

func (passthroughSession) Stats() CallStats { return CallStats{} }

func (passthroughSession) Close() error { return nil }
