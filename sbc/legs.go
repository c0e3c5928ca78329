package sbc

import (
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/policy"
)

// tagRequest gives every response of the A-leg transaction, including the
// 487 sipgo builds from the request on a CANCEL, natsbc's To tag (RFC 3261
// §8.2.6.2). sipgo reads the request under the transaction's FSM lock when
// a CANCEL comes, and offers no hook to write under it, so the tag is
// written between two takings of that lock (tx.Err takes it): the first
// orders the write after a CANCEL handled already (whose 487 went out
// untagged: nothing is written then), the second before any later one.
// Between them lies only the write itself. The caller sends 100 Trying.
func (s *Server) tagRequest(req *sip.Request, tx sip.ServerTransaction, to *sip.ToHeader, tag string) {
	if req.IsInvite() && tx != nil && tx.Err() != nil {
		return
	}
	to.Params.Add("tag", tag)
	if req.IsInvite() && tx != nil {
		_ = tx.Err()
	}
}

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
	s.tagRequest(req, tx, to, a.localTag)
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
