package sbc

import (
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
)

// relayTransfer makes what a transfer carries between dialogs match the leg
// out goes to (out is req, from fromSide, built for the other leg):
//
//   - a REFER's Refer-To keeps its target (a PBX extension stays one) and
//     its embedded Replaces is mapped (mapReplaces); a Replaces naming a
//     dialog natsbc does not hold gets 481 (RFC 3891 §3), a REFER without
//     exactly one Refer-To 400 (RFC 3515 §2.4.1);
//   - the REFER's CSeq on both legs is remembered, and the id of an
//     "Event: refer" on the subscription's NOTIFY or SUBSCRIBE is given the
//     number of the leg it goes to (referIDs).
//
// False: req was answered.
func (c *call) relayTransfer(fromSide media.Leg, req *sip.Request, tx sip.ServerTransaction, out *sip.Request) bool {
	if req.Method == sip.REFER {
		if !c.s.mapReferTo(req, tx, out) {
			return false
		}
		c.refers.remember(referSeq{fromSide, req.CSeq().SeqNo, false}, referSeq{c.other(fromSide), out.CSeq().SeqNo, true})
	}
	// The NOTIFY comes from the REFER's receiver: the id is natsbc's CSeq
	// on its leg. A SUBSCRIBE refreshing the subscription comes from the
	// REFER's sender: the id is that sender's own CSeq.
	var byNatsbc bool
	switch req.Method {
	case sip.NOTIFY:
		byNatsbc = true
	case sip.SUBSCRIBE:
		byNatsbc = false
	default:
		return true
	}
	for _, h := range allHeaders(out) {
		if name := strings.ToLower(h.Name()); name != "event" && name != "o" {
			continue
		}
		v, changed := rewriteReferEventID(h.Value(), func(id uint32) (uint32, bool) { return c.refers.across(fromSide, id, byNatsbc) })
		if changed {
			out.ReplaceHeader(sip.NewHeader(h.Name(), v))
		}
		break
	}
	return true
}

// mapReferTo maps the Replaces embedded in out's Refer-To. False: req was
// answered.
func (s *Server) mapReferTo(req *sip.Request, tx sip.ServerTransaction, out *sip.Request) bool {
	var referTo []sip.Header
	for _, h := range allHeaders(out) {
		if name := strings.ToLower(h.Name()); name == "refer-to" || name == "r" {
			referTo = append(referTo, h)
		}
	}
	if len(referTo) != 1 {
		s.replyStateless(req, tx, 400, "Bad Request")
		return false
	}
	h := referTo[0]
	v := h.Value()
	r, start, end, found, err := referToReplaces(v)
	if err != nil {
		s.log.Info("REFER refused: Refer-To unreadable", "call_id", callID(req), "refer_to", v, "error", err)
		s.replyStateless(req, tx, 400, "Bad Refer-To")
		return false
	}
	if !found {
		return true
	}
	mapped, ok := s.calls.mapReplaces(r)
	if !ok {
		s.log.Info("REFER refused: its Replaces names no dialog natsbc holds", "call_id", callID(req), "replaces", r.String())
		s.replyStateless(req, tx, 481, "Call/Transaction Does Not Exist")
		return false
	}
	out.ReplaceHeader(sip.NewHeader(h.Name(), v[:start]+escapeURIHeader(mapped.String())+v[end:]))
	return true
}

// mapReplacesHeader gives the B-leg INVITE out (a copy of the caller's
// headers) the Replaces its receiver knows (RFC 3891 §3: attended
// transfer, call pickup). A Replaces that is unreadable or not alone gets
// 400, one naming no dialog natsbc holds 481.
func (s *Server) mapReplacesHeader(out *sip.Request) *Reject {
	hs := out.GetHeaders("Replaces")
	if len(hs) == 0 {
		return nil
	}
	if len(hs) > 1 {
		return &Reject{Code: 400, Reason: "Bad Replaces"}
	}
	r, err := parseReplaces(hs[0].Value())
	if err != nil {
		return &Reject{Code: 400, Reason: "Bad Replaces"}
	}
	mapped, ok := s.calls.mapReplaces(r)
	if !ok {
		return &Reject{Code: 481, Reason: "Call/Transaction Does Not Exist"}
	}
	out.ReplaceHeader(sip.NewHeader(hs[0].Name(), mapped.String()))
	return nil
}
