package sbc

import (
	"context"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

// tryNext moves the initial B-leg INVITE to the next address RFC 3263 gave
// for the callee's target (§4.3): after a 503, a transaction that ended
// without an answer (timeout or transport error; res is nil then), or an
// INVITE that could not be sent at all (*otx is nil then). The
// caller has heard nothing from the far side yet: relayInvite only asks
// while no provisional above 100 was relayed and the caller has not
// cancelled. On success *out and *otx name the new transaction (the old
// one is terminated) and true is returned.
//
// §4.3: "a new request, which is identical to the previous, but has a
// different value of the Via branch ID": same CSeq, Call-ID and tags.
// Addresses facing another local address than the first are skipped: the
// SDP offer already names the first one's relay address.
func (c *call) tryNext(ctx context.Context, res *sip.Response, out **sip.Request, otx *sip.ClientTransaction) bool {
	if res != nil && res.StatusCode != 503 {
		return false
	}
	b := c.leg(media.LegB)
	for {
		h, ok := c.nextAlternate()
		if !ok {
			return false
		}
		if h.adv.Addr() != b.face().adv.Addr() {
			c.log.Info("next callee address skipped: another local address", "to", h.dst.String(), "local", h.adv.String())
			continue
		}
		reason := "timeout"
		switch {
		case res != nil:
			reason = res.StartLine()
		case *otx == nil:
			reason = "not sent"
		}
		req := retargeted(b, *out, h)
		tx, err := c.s.send(ctx, req)
		if err != nil {
			c.log.Info("INVITE not sent to the next callee address", "to", h.dst.String(), "error", err)
			continue
		}
		c.log.Info("INVITE retried at the next callee address", "from", (*out).Destination(), "to", h.dst.String(),
			"transport", h.transport, "after", reason)
		if *otx != nil {
			(*otx).Terminate()
		}
		tx.OnRetransmission(func(res *sip.Response) { c.onRetransmitted2xx(b.side, res) })
		*out, *otx = req, tx
		return true
	}
}

// nextAlternate takes the next untried address of the callee's target.
func (c *call) nextAlternate() (hop, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.alternates) == 0 {
		return hop{}, false
	}
	h := c.alternates[0]
	c.alternates = c.alternates[1:]
	return h, true
}

// setAlternates replaces the addresses tryNext moves to: the INVITE now
// goes to another target (a 3xx followed).
func (c *call) setAlternates(hops []hop) {
	c.mu.Lock()
	c.alternates = hops
	c.mu.Unlock()
}

// retargeted points the B-leg at h and copies the INVITE for it with a new
// Via (new branch, h's transport). Handlers of the call may read the
// B-leg meanwhile: its fields change under b.mu.
func retargeted(b *leg, out *sip.Request, h hop) *sip.Request {
	f := legFace{h.sock, h.adv, h.transport}
	b.mu.Lock()
	b.sock, b.adv, b.transport = f.sock, f.adv, f.transport
	b.nextHop, b.source = h.dst.String(), h.dst
	b.mu.Unlock()
	req := out.Clone()
	// Clone keeps the local address; a TCP request must not be pinned to
	// one (address() sets it again for UDP).
	req.Laddr = sip.Addr{}
	req.RemoveHeader("Via")
	req.PrependHeader(f.via())
	if req.Contact() != nil {
		req.RemoveHeader("Contact")
		req.AppendHeader(f.contactHeader())
	}
	f.address(req, h.dst.String())
	return req
}
