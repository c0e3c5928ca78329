package ingress

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/emiago/sipgo/sip"
)

// guardAction is what the guard does with one datagram.
type guardAction int

const (
	guardPass   guardAction = iota // hand it to sipgo
	guardAnswer                    // send reply back to the source, then forget it
	guardDrop                      // forget it
	guardSTUN                      // hand it to the STUN handler
)

func (a guardAction) String() string {
	switch a {
	case guardPass:
		return "passed"
	case guardAnswer:
		return "answered"
	case guardSTUN:
		return "stun"
	}
	return "dropped"
}

// guardDecision is the outcome for one datagram. reason is empty for
// datagrams that pass and for STUN.
type guardDecision struct {
	action guardAction
	reason string
	reply  []byte
	// req is the parsed request of a datagram that passes.
	req *sip.Request
}

// stunMagicCookie is fixed by RFC 5389 §6.
const stunMagicCookie = 0x2112A442

// isSTUN: RFC 5389 §6 — the two most significant bits of every STUN message
// are zero and bytes 4..7 hold the magic cookie; RFC 7983 §7 relies on the
// same first-byte test to demultiplex STUN from other traffic.
func isSTUN(pkt []byte) bool {
	return len(pkt) >= 20 && pkt[0]&0xC0 == 0 &&
		binary.BigEndian.Uint32(pkt[4:8]) == stunMagicCookie
}

// isKeepalive: RFC 5626 §4.4.1 pings ("\r\n\r\n") and pongs ("\r\n"), which
// sipgo itself skips for datagrams of up to 4 bytes.
func isKeepalive(pkt []byte) bool {
	return len(pkt) > 0 && len(pkt) <= 4 && len(bytes.Trim(pkt, "\r\n")) == 0
}

// decideDatagram classifies one datagram from src. limit is the largest
// message the reader above can take. It never panics on any input: the
// sipgo parser is called under a recover, since its bugs must not become
// ours.
func decideDatagram(parser *sip.Parser, pkt []byte, src netip.AddrPort, limit int) guardDecision {
	switch {
	case len(bytes.Trim(pkt, "\x00")) == 0:
		return guardDecision{action: guardDrop, reason: "empty datagram"}
	case isKeepalive(pkt):
		return guardDecision{action: guardPass}
	case isSTUN(pkt):
		return guardDecision{action: guardSTUN}
	case len(pkt) > limit:
		// RFC 3261 §21.5.14: the server refuses a message longer than it
		// is willing to process.
		return answerOrDrop(pkt, src, 513, "Message Too Large", "message too large")
	}
	msg, err := safeParse(parser, pkt)
	if err != nil {
		reason, phrase := "unparseable: "+err.Error(), "Bad Request"
		if errors.Is(err, sip.ErrParseReadBodyIncomplete) {
			reason, phrase = "Content-Length exceeds body", "Content-Length Exceeds Body"
		}
		return answerOrDrop(pkt, src, 400, phrase, reason)
	}
	textClean := headerTextClean(pkt)
	switch m := msg.(type) {
	case *sip.Request:
		if rej := checkRequest(m, textClean); rej != nil {
			if m.IsAck() {
				return guardDecision{action: guardDrop, reason: "ACK: " + rej.Reason}
			}
			return answerOrDrop(pkt, src, rej.Code, rej.Reason, rej.Reason)
		}
		return guardDecision{action: guardPass, req: m}
	case *sip.Response:
		// §17: a response is never answered.
		if rej := checkResponse(m, textClean); rej != nil {
			return guardDecision{action: guardDrop, reason: "response: " + rej.Reason}
		}
	default:
		return guardDecision{action: guardDrop, reason: "not a SIP message"}
	}
	return guardDecision{action: guardPass}
}

// answerOrDrop answers what looks like a request; the rest (responses,
// ACKs, garbage) is dropped.
func answerOrDrop(pkt []byte, src netip.AddrPort, code int, phrase, reason string) guardDecision {
	req, ok := scanRequest(pkt)
	if !ok {
		return guardDecision{action: guardDrop, reason: reason}
	}
	reply, err := buildReply(req, code, phrase, src)
	if err != nil {
		return guardDecision{action: guardDrop, reason: reason}
	}
	// Only what sipgo would itself accept as a response goes out: this keeps
	// the guard from ever emitting malformed SIP.
	if res, err := sip.ParseMessage(reply); err != nil || res == nil {
		return guardDecision{action: guardDrop, reason: reason}
	}
	return guardDecision{action: guardAnswer, reason: reason, reply: reply}
}

func safeParse(parser *sip.Parser, pkt []byte) (msg sip.Message, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg, err = nil, errors.New("parser panic")
		}
	}()
	msg, err = parser.ParseSIP(pkt)
	if err == nil && msg == nil {
		err = errors.New("no message")
	}
	return msg, err
}
