package sbc

import (
	"math/rand/v2"
	"strconv"
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

// offers serialises SDP offers within a call (RFC 3264 §4: one offer
// outstanding at a time per session). natsbc relays each offer leg to
// leg, so one outstanding offer from either side blocks both.
type offers struct {
	mu      sync.Mutex
	pending bool
	from    media.Leg
}

// beginOffer claims the call's offer slot for an INVITE or UPDATE that
// carries an offer from side. When another offer is outstanding it
// answers as RFC 3311 §5.2 says and returns false:
//
//	"If an UPDATE is received that contains an offer, and the UAS has
//	generated an offer (in an UPDATE, PRACK or INVITE) to which it has not
//	yet received an answer, the UAS MUST reject the UPDATE with a 491
//	response. Similarly, if an UPDATE is received that contains an offer,
//	and the UAS has received an offer (in an UPDATE, PRACK, or INVITE) on
//	which it has not yet generated an answer, the UAS MUST reject the
//	UPDATE with a 500 response, and MUST include a Retry-After header
//	field with a randomly chosen value between 0 and 10 seconds."
//
// An offer outstanding from the same side is one natsbc received and has
// not answered (500); from the other side it is one natsbc sent to this
// side (491). A re-INVITE with an offer is treated the same way.
func (c *call) beginOffer(side media.Leg, req *sip.Request, tx sip.ServerTransaction) bool {
	ok, from := c.claimOffer(side)
	if !ok {
		c.refusePending(side, from, req, tx)
	}
	return ok
}

// claimOffer takes the offer slot for an offer from side; when it is
// taken, it says by whose offer.
func (c *call) claimOffer(side media.Leg) (ok bool, busyFrom media.Leg) {
	o := &c.offers
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.pending {
		return false, o.from
	}
	o.pending, o.from = true, side
	return true, side
}

// refusePending answers a request from side that crosses a pending INVITE
// or offer from busyFrom. The same side's second one is natsbc's to refuse
// with 500 and Retry-After 0..10 s (RFC 3261 §14.2 for INVITE, RFC 3311
// §5.2 for offers); one crossing what natsbc sent to that side is glare:
// 491 (the side retries after its own random wait, RFC 3261 §14.1).
func (c *call) refusePending(side, busyFrom media.Leg, req *sip.Request, tx sip.ServerTransaction) {
	s := c.s
	if busyFrom != side {
		s.respond(tx, req, s.newResponse(req, 491, "Request Pending"))
		return
	}
	res := s.newResponse(req, 500, "Server Internal Error")
	res.AppendHeader(sip.NewHeader("Retry-After", strconv.Itoa(rand.IntN(11))))
	s.respond(tx, req, res)
}

// endOffer frees the offer slot once the request that carried the offer
// has its final response (and, for a re-INVITE's 2xx, its ACK).
func (c *call) endOffer() {
	c.offers.mu.Lock()
	c.offers.pending = false
	from := c.offers.from
	c.offers.mu.Unlock()
	c.log.Debug("offer exchange over", "from_leg", from.String())
}

// carriesOffer reports whether an in-dialog request starts an offer/answer
// exchange: a re-INVITE or UPDATE with a body (RFC 3261 §13.2.1, RFC 3311
// §5.1). A re-INVITE without one (the offer comes in its 2xx) is not
// tracked: its answer is in the ACK natsbc relays at once.
func carriesOffer(req *sip.Request) bool {
	return (req.IsInvite() || req.Method == sip.UPDATE) && len(req.Body()) > 0
}

// checkRemoteCSeq applies RFC 3261 §12.2.2 to a request of a leg's
// dialog: "If the remote sequence number is not empty, but the sequence
// number of the request is lower than the remote sequence number, the
// request is out of order and MUST be rejected with a 500 (Server
// Internal Error) response." Otherwise the request's number becomes the
// remote one. It answers the request itself and returns false when
// refused. ACK and CANCEL carry their INVITE's number and are not checked.
func (c *call) checkRemoteCSeq(side media.Leg, req *sip.Request, tx sip.ServerTransaction) bool {
	if req.IsAck() || req.IsCancel() {
		return true
	}
	seq := req.CSeq().SeqNo
	if last, ok := c.leg(side).takeRemoteCSeq(fromTag(req), seq); !ok {
		c.log.Info("in-dialog request out of order", "leg", side.String(), "method", req.Method, "cseq", seq, "last_cseq", last)
		c.s.replyStateless(req, tx, 500, "Server Internal Error")
		return false
	}
	return true
}
