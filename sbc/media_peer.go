package sbc

import (
	"errors"
	"net/netip"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/policy"
)

// rewriteSDP hands a body that arrived on leg from to the media session,
// first telling it who sits on that leg (so latching knows which source
// may take over the leg's media), and returns the body for the other leg.
func (c *call) rewriteSDP(from media.Leg, msg sip.Message, facing netip.Addr) ([]byte, error) {
	info := c.peerInfo(c.leg(from))
	if src := parseAddrPort(msg.Source()); src.IsValid() {
		info.SignalSource = src
	}
	c.media.SetPeer(from, info)
	// The leg the body goes to: its media security decides how natsbc
	// writes an offer to it, before its peer has said anything.
	c.media.SetPeer(c.other(from), c.peerInfo(c.leg(c.other(from))))
	if err := c.holdRelayPairs(msg); err != nil {
		return nil, err
	}
	c.s.noteRelayAddr(facing)
	out, err := c.media.Rewrite(from, contentType(msg), msg.Body(), facing)
	if err == nil {
		// A refresh by re-INVITE offers it again (upkeep.go).
		c.up.sentSDP(c.other(from), contentType(msg), out)
	}
	return out, err
}

// peerInfo is what the media session must know of leg l's peer.
func (c *call) peerInfo(l *leg) media.PeerInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	mode := l.peer.Latch
	if l.peer.Name == "" {
		mode = c.cfg.EndpointLatch
	}
	return media.PeerInfo{SignalSource: l.source, NATed: l.nated, KeepICE: l.peer.KeepICE, Latch: latchMode(mode),
		Unproven: l.peer.Name == "" && l.transport == "UDP" && !c.s.shield.Proven(l.source.Addr()),
		Security: c.securityOf(l)}
}

// holdRelayPairs counts, before the relay takes them, the port pairs an
// SDP asks for (one per m= line on each leg) against the call's source.
// A body the relay cannot read is left to Rewrite to refuse.
func (c *call) holdRelayPairs(msg sip.Message) error {
	if _, relays := c.s.media.(media.PortCounter); !relays {
		return nil
	}
	sdp, ok := media.SDPOf(contentType(msg), msg.Body())
	if !ok {
		return nil
	}
	streams := media.CountStreams(sdp)
	if err := c.slot.holdPairs(2 * streams); err != nil {
		c.log.Warn("call limit reached", "limit", err.(*limitError).limit, "streams", streams)
		return err
	}
	return nil
}

// latchMode is the relay's latching for a config spelling (peers[].latching,
// media.latching): strict unless it says otherwise.
func latchMode(spelling string) media.LatchMode {
	switch spelling {
	case policy.LatchRelaxed:
		return media.LatchRelaxed
	case policy.LatchSRTPAuth:
		return media.LatchSRTPAuth
	}
	return media.LatchStrict
}

// sdpReject is the answer to a body natsbc could not anchor: 488 for SDP
// it cannot read (RFC 3261 §21.4.26), 503 when the relay has no ports left.
func sdpReject(err error) *Reject {
	var limit *limitError
	if errors.Is(err, media.ErrNoPorts) || errors.As(err, &limit) {
		return &Reject{Code: 503, Reason: "Service Unavailable"}
	}
	// ErrTooManyStreams too: the offer asks for more than natsbc relays.
	return &Reject{Code: 488, Reason: "Not Acceptable Here"}
}

// securityOf is how natsbc secures the media of leg l (l.mu held): the
// peer's media.srtp, else its socket's, else the default. Config checked
// the spellings; one that slipped through is passthrough, today's way.
func (c *call) securityOf(l *leg) media.SecurityMode {
	spelling := l.peer.SRTP
	if spelling == "" && l.sock != nil {
		spelling = l.sock.spec.SRTP
	}
	if spelling == "" {
		spelling = c.cfg.MediaSRTP
	}
	m, _ := media.ParseSecurityMode(spelling)
	return m
}
