package sbc

import (
	"context"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

// fillRelayed gives out, req carried to the other leg's dialog, what
// crosses legs: req's end-to-end headers, Max-Forwards less one, and its
// body with the SDP anchored for the other leg. False: the SDP was refused
// and req answered.
func (c *call) fillRelayed(fromSide media.Leg, req *sip.Request, tx sip.ServerTransaction, out *sip.Request) bool {
	to := c.leg(c.other(fromSide))
	copyEndToEnd(out, req, c.leg(fromSide).peerOf())
	decrementMaxForwards(out, req)
	if len(req.Body()) == 0 {
		return true
	}
	rewritten, err := c.rewriteSDP(fromSide, req, to.face().adv.Addr())
	if err != nil {
		c.log.Warn("SDP not accepted", "leg", fromSide.String(), "method", req.Method, "error", err)
		rej := sdpReject(err)
		c.s.replyStateless(req, tx, rej.Code, rej.Reason)
		return false
	}
	setBody(out, contentType(req), rewritten)
	return true
}

// exchange sends out (fillRelayed) and maps its final response onto req,
// with natsbc's Contact when withContact. nil res: none came, req got
// 408. The caller sends reply.
func (c *call) exchange(fromSide media.Leg, req *sip.Request, tx sip.ServerTransaction, out *sip.Request, withContact bool) (res, reply *sip.Response) {
	s := c.s
	ctx, cancel := context.WithTimeout(s.base, 64*s.conf().T1)
	defer cancel()
	res, err := s.do(ctx, out)
	if err != nil {
		c.log.Info("in-dialog request not answered", "method", req.Method, "leg", c.other(fromSide).String(), "to", out.Destination(), "error", err)
		s.replyStateless(req, tx, 408, "Request Timeout")
		return nil, nil
	}
	reply, err = c.buildResponse(fromSide, req, res, withContact)
	if err != nil {
		c.log.Warn("SDP of an in-dialog answer not anchored", "method", req.Method, "error", err)
		rej := sdpReject(err)
		reply = s.newResponse(req, rej.Code, rej.Reason)
	}
	return res, reply
}
