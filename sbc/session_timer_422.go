package sbc

import (
	"context"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

// retryTooBrief answers a 422 to natsbc's initial B-leg INVITE (RFC 4028
// §7.3, §7.4): the callee's Min-SE is above the interval natsbc offered,
// so natsbc sends the INVITE again, once per call, with Session-Expires
// and Min-SE raised to it: a new INVITE transaction (new Via branch, next
// CSeq) with the same Call-ID, From tag and To without tag. The caller
// hears nothing of it: relayInvite asks only while no provisional above
// 100 was relayed (the B-leg has no early dialog) and the caller has not
// cancelled. On success *out and *otx name the new transaction (the old
// one is terminated) and true is returned, as tryNext does.
func (c *call) retryTooBrief(ctx context.Context, res *sip.Response, out **sip.Request, otx *sip.ClientTransaction) bool {
	floor := tooBriefFloor(*out, res)
	if floor == 0 || c.up.timer(media.LegB).floor > 0 {
		return false
	}
	b := c.leg(media.LegB)
	t := c.up.raiseFloor(media.LegB, floor)
	req := (*out).Clone()
	// Clone keeps the local address; a TCP request must not be pinned to
	// one (address() sets it again for UDP).
	req.Laddr = sip.Addr{}
	req.RemoveHeader("Via")
	req.PrependHeader(b.via())
	req.ReplaceHeader(&sip.CSeqHeader{SeqNo: b.nextCSeq(), MethodName: sip.INVITE})
	c.cfg.offerTimerHeaders(req, t, false)
	b.address(req, (*out).Destination())
	tx, err := c.s.send(ctx, req)
	if err != nil {
		c.log.Info("INVITE not sent again after 422", "to", req.Destination(), "error", err)
		return false
	}
	c.log.Info("INVITE sent again with the callee's Min-SE", "min_se", floor.String(), "to", req.Destination())
	(*otx).Terminate()
	tx.OnRetransmission(func(res *sip.Response) { c.onRetransmitted2xx(b.side, res) })
	*out, *otx = req, tx
	return true
}
