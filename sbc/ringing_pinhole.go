package sbc

import (
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

// ringingPinhole keeps a NATed caller's flow open while its call rings.
// Nothing else crosses that flow between the last provisional and the
// final response: a callee that rings longer than the caller's NAT keeps
// an idle UDP mapping (20-30 s on many home routers) would answer into a
// forgotten mapping, and the caller would never get its 200.
//
// RFC 3261 §13.3.1.1: "the UAS SHOULD send a non-100 provisional response
// every minute, to handle the possibility of lost provisional responses".
// natsbc sends the last one it relayed (or 100 Trying before any) at the
// keepalive interval instead of every minute, which the NAT needs.
type ringingPinhole struct {
	tick *time.Ticker
	// last is the latest provisional sent to the caller when it went
	// unreliably; nil (100 Trying) after a reliable one, which its own
	// loop retransmits until PRACKed and which an older one must not
	// follow.
	last *sip.Response
}

// newRingingPinhole returns nil when the INVITE's sender needs no
// pinhole kept: a re-INVITE, a caller not behind NAT, keepalive off.
func (c *call) newRingingPinhole(fromSide media.Leg, initial bool) *ringingPinhole {
	interval := c.cfg.Keepalive.Interval
	if !initial || fromSide != media.LegA || interval <= 0 || !c.a.holdsPinhole() {
		return nil
	}
	return &ringingPinhole{tick: time.NewTicker(interval)}
}

// C is the tick channel; nil (never ready) for no pinhole.
func (r *ringingPinhole) C() <-chan time.Time {
	if r == nil {
		return nil
	}
	return r.tick.C
}

func (r *ringingPinhole) stop() {
	if r != nil {
		r.tick.Stop()
	}
}

// sent remembers the provisional natsbc sent the caller: res when it went
// unreliably, none when reliable (nil res and !reliable: nothing sent).
func (r *ringingPinhole) sent(res *sip.Response, reliable bool) {
	switch {
	case r == nil:
	case reliable:
		r.last = nil
	case res != nil:
		r.last = res
	}
}

// refresh sends the caller the last provisional again.
func (r *ringingPinhole) refresh(c *call, in *sip.Request, tx sip.ServerTransaction) {
	res := r.last
	if res == nil {
		res = c.s.newResponse(in, 100, "Trying")
	}
	c.log.Debug("ringing: provisional resent to hold the caller's NAT pinhole", "status", res.StatusCode)
	c.s.respond(tx, in, res)
}
