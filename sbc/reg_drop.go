package sbc

import (
	"context"

	"github.com/emiago/sipgo/sip"
)

// dropBinding removes a binding natsbc can no longer serve (not refreshed,
// or its phone stopped answering) and un-registers it at the PBX, so the
// PBX stops routing calls to a flow that is gone.
func (s *Server) dropBinding(b *binding, reason string) {
	s.reg.mu.Lock()
	removed := s.reg.store.remove(b)
	pbx := b.pbx
	pbx.cseq++
	b.pbx.cseq = pbx.cseq
	var disk diskChange
	if removed {
		disk = s.reg.toDisk(nil, []*binding{b})
	}
	s.reg.mu.Unlock()
	s.reg.writeDisk(disk, s.log)
	if !removed {
		return
	}
	s.log.Info("binding removed", "aor", b.aor, "token", b.token, "reason", reason, "flow", b.flow.String())
	s.goTracked(func() { s.unregisterAtPBX(b, pbx) })
}

// unregisterAtPBX sends the PBX a REGISTER that removes natsbc's token
// Contact for b (RFC 3261 §10.2.2: expires=0), in the phone's registration
// (its Call-ID, a higher CSeq). A PBX that challenges it keeps the contact
// until its own expiry: natsbc has no credentials, and answers 480 to calls
// for the token meanwhile.
func (s *Server) unregisterAtPBX(b *binding, pbx pbxSide) {
	req := sip.NewRequest(sip.REGISTER, pbx.ruri)
	req.AppendHeader(pbx.via())
	from := &sip.FromHeader{Address: pbx.from, Params: sip.NewParams()}
	from.Params.Add("tag", newLocalTag())
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: pbx.to, Params: sip.NewParams()})
	cid := sip.CallIDHeader(pbx.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: pbx.cseq, MethodName: sip.REGISTER})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	contact := tokenContact(b.token, pbx, regContact{hdr: &sip.ContactHeader{}, asked: 0})
	req.AppendHeader(contact)
	req.AppendHeader(sip.NewHeader("Expires", "0"))
	req.AppendHeader(sip.NewHeader("User-Agent", s.cfg.UserAgent))
	pbx.address(req)
	ctx, cancel := context.WithTimeout(s.base, 64*s.cfg.T1)
	defer cancel()
	res, err := s.do(ctx, req)
	switch {
	case err != nil:
		s.log.Warn("un-register at the PBX not answered", "aor", b.aor, "token", b.token, "registrar", pbx.dst.String(), "error", err)
	case !res.IsSuccess():
		s.log.Warn("un-register refused by the PBX", "aor", b.aor, "token", b.token, "status", res.StatusCode,
			"note", "the PBX keeps the contact until it expires; natsbc answers calls to it 480")
	default:
		s.log.Debug("un-registered at the PBX", "aor", b.aor, "token", b.token)
	}
}
