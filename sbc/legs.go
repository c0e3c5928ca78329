package sbc

import (
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/policy"
)

// newLegPair builds the two legs of a B2BUA exchange that req starts (a
// call, a subscription, or one out-of-dialog request): the A-leg is the
// sender's dialog with natsbc, the B-leg natsbc's own towards next, with
// its own Call-ID, tags and CSeq, so neither side learns the other's
// names or addresses.
func (s *Server) newLegPair(req *sip.Request, tx sip.ServerTransaction, source netip.AddrPort, peer policy.Peer, next calleeHop) (a, b *leg, err error) {
	aSock, aAdv, err := s.arrivedOn(lower(req.Transport()), localAddrOf(tx), source.Addr())
	if err != nil {
		return nil, nil, err
	}
	from, to := req.From(), req.To()
	a = &leg{
		side: media.LegA, sock: aSock, adv: aAdv, transport: strings.ToUpper(req.Transport()),
		callID: callID(req), localTag: newLocalTag(),
		local: *to.Address.Clone(), localName: to.DisplayName,
		remote: *from.Address.Clone(), remName: from.DisplayName,
		peer: peer, source: source, remoteTag: fromTag(req),
		remoteCSeq: map[string]uint32{fromTag(req): req.CSeq().SeqNo},
	}
	// Every response of the A-leg transaction, including the 487 sipgo
	// sends on CANCEL, carries natsbc's tag (RFC 3261 §8.2.6.2).
	to.Params.Add("tag", a.localTag)
	if req.IsInvite() {
		// RFC 3261 §17.2.1: 100 Trying at once, rather than when sipgo's
		// 200 ms timer fires. It also orders the tag above before sipgo's
		// own use of the request (its 487 on a CANCEL): Respond runs under
		// the transaction's lock, which the CANCEL's handling takes too.
		s.respond(tx, req, s.newResponse(req, 100, "Trying"))
	}
	s.learnRoute(a, req, source, false)

	b = &leg{
		side: media.LegB, sock: next.sock, adv: next.adv, transport: next.transport,
		callID: newCallID(), localTag: newLocalTag(),
		local: *from.Address.Clone(), localName: from.DisplayName,
		remote: *to.Address.Clone(), remName: to.DisplayName,
		peer: next.peer, source: next.dst,
		remoteTarget: next.ruri, nextHop: next.dst.String(),
		route: routeChoice{Rule: next.rule},
	}
	b.nated = next.nated
	return a, b, nil
}
