package sbc

import (
	"context"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/registrar"
)

// unregisterAtPBX sends the PBX a REGISTER that removes natsbc's token
// Contact for b (RFC 3261 §10.2.2: expires=0), in the phone's registration
// (its Call-ID, a higher CSeq). A PBX that challenges it keeps the contact
// until its own expiry: natsbc has no credentials, and answers 480 to calls
// for the token meanwhile.
func (s *Server) unregisterAtPBX(b registrar.Binding) {
	pbx := b.PBX
	req := sip.NewRequest(sip.REGISTER, pbx.RURI)
	req.AppendHeader(pbxVia(pbx))
	from := &sip.FromHeader{Address: pbx.From, Params: sip.NewParams()}
	from.Params.Add("tag", newLocalTag())
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: pbx.To, Params: sip.NewParams()})
	cid := sip.CallIDHeader(pbx.CallID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: pbx.CSeq, MethodName: sip.REGISTER})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	contact := tokenContact(b.Token, pbx, regContact{hdr: &sip.ContactHeader{}, asked: 0})
	req.AppendHeader(contact)
	req.AppendHeader(sip.NewHeader("Expires", "0"))
	req.AppendHeader(sip.NewHeader("User-Agent", s.conf().UserAgent))
	s.addressPBX(pbx, req)
	ctx, cancel := context.WithTimeout(s.base, 64*s.conf().T1)
	defer cancel()
	res, err := s.do(ctx, req)
	switch {
	case err != nil:
		s.log.Warn("un-register at the PBX not answered", "aor", b.AoR, "token", b.Token, "registrar", pbx.Dst.String(), "error", err)
	case !res.IsSuccess():
		s.log.Warn("un-register refused by the PBX", "aor", b.AoR, "token", b.Token, "status", res.StatusCode,
			"note", "the PBX keeps the contact until it expires; natsbc answers calls to it 480")
	default:
		s.log.Debug("un-registered at the PBX", "aor", b.AoR, "token", b.Token)
	}
}
