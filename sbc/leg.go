package sbc

import (
	"net/netip"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/policy"
)

// leg is natsbc's dialog with one side of a call (RFC 3261 §12): natsbc is
// the UAS of the A-leg and the UAC of the B-leg. Nothing of one leg's
// Call-ID, tags, Via, Contact or route set is ever used on the other.
type leg struct {
	side media.Leg

	callID    string
	localTag  string
	local     sip.Uri // our URI in From (requests we send) / To (requests we get)
	localName string
	remote    sip.Uri
	remName   string

	// mu guards what follows. The far leg's initial INVITE moves it while
	// handlers of the call's other requests read it (an RFC 3263 retry,
	// a 3xx followed, the 2xx's route): read under mu or through face,
	// peerOf and nextHopOf.
	mu        sync.Mutex
	sock      *socket
	adv       netip.AddrPort // natsbc's address on this leg (Via, Contact)
	transport string         // "UDP" | "TCP" | "TLS" | "WS" | "WSS"
	// peer is who sits on this leg, per policy; source is where its
	// messages really come from.
	peer      policy.Peer
	source    netip.AddrPort
	remoteTag string
	localCSeq uint32
	// remoteCSeq is RFC 3261 §12.2.2's remote sequence number per remote
	// tag: each early dialog of a forked INVITE has its own CSeq space.
	remoteCSeq    map[string]uint32
	remoteTarget  sip.Uri   // RFC 3261 §12.1: the peer's Contact (fixed per policy)
	routeSet      []sip.Uri // RFC 3261 §12.1: Record-Route, in the order that routes our requests
	routeSetFixed bool
	nextHop       string // host:port our requests on this leg are sent to
	// route explains nextHop for the logs: which rule decided it and what
	// the peer's own headers said.
	route routeChoice
	// nated: the peer is a NATed end-point (checks, policy or a registered
	// binding): its media is latched on its first packet.
	nated bool
}

// routeChoice records why a leg's requests go where they go.
type routeChoice struct {
	Rule    string // policy.ContactFix rule or "route set"
	Contact string // the Contact the peer sent
	Via     string // the peer's top Via sent-by
	Source  string // where the peer's message came from
	Verdict string // the NAT checks' verdict
	Fixed   bool   // the Contact host:port was replaced by the source
}

// legFace is where a leg's messages leave natsbc: the socket, natsbc's
// address on the leg and the transport.
type legFace struct {
	sock      *socket
	adv       netip.AddrPort
	transport string
}

func (l *leg) face() legFace {
	l.mu.Lock()
	defer l.mu.Unlock()
	return legFace{l.sock, l.adv, l.transport}
}

// peerOf is who sits on the leg now (a 3xx followed changes it).
func (l *leg) peerOf() policy.Peer {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.peer
}

// nextHopOf is where the leg's requests go now.
func (l *leg) nextHopOf() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.nextHop
}

// contactHeader is natsbc's Contact on this leg.
func (l *leg) contactHeader() *sip.ContactHeader { return l.face().contactHeader() }

func (f legFace) contactHeader() *sip.ContactHeader {
	host, port := hostPort(f.adv)
	c := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: host, Port: port}}
	if !isUDP(f.transport) {
		c.Address.UriParams = sip.NewParams()
		c.Address.UriParams.Add("transport", strings.ToLower(f.transport))
	}
	return c
}

// via is a fresh top Via for a request natsbc sends on this leg. rport asks
// the peer to answer symmetrically (RFC 3581 §3).
func (l *leg) via() *sip.ViaHeader { return l.face().via() }

func (f legFace) via() *sip.ViaHeader {
	host, port := hostPort(f.adv)
	v := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: f.transport, Host: host, Port: port, Params: sip.NewParams()}
	v.Params.Add("branch", sip.GenerateBranch())
	v.Params.Add("rport", "")
	if strings.EqualFold(f.transport, "TLS") {
		// RFC 5923 §5: the peer may send its requests to natsbc back on
		// this connection (Kamailio's tcp_accept_aliases), rather than
		// open one to natsbc's TLS socket.
		v.Params.Add("alias", "")
	}
	return v
}

// maxRemoteCSeqs bounds the forks whose CSeq a leg tracks; a peer that
// makes up more tags only resets the others' numbers.
const maxRemoteCSeqs = 8

// takeRemoteCSeq applies RFC 3261 §12.2.2 to a request of the dialog whose
// remote tag is tag: it returns the remote sequence number (0: empty) and
// false when seq is lower; otherwise seq becomes the number.
func (l *leg) takeRemoteCSeq(tag string, seq uint32) (last uint32, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	last = l.remoteCSeq[tag]
	if last != 0 && seq < last {
		return last, false
	}
	if _, known := l.remoteCSeq[tag]; !known && len(l.remoteCSeq) >= maxRemoteCSeqs {
		clear(l.remoteCSeq)
	}
	if l.remoteCSeq == nil {
		l.remoteCSeq = map[string]uint32{}
	}
	l.remoteCSeq[tag] = seq
	return last, true
}

// nextCSeq reserves the next local CSeq number (RFC 3261 §12.2.1.1).
func (l *leg) nextCSeq() uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.localCSeq++
	return l.localCSeq
}

// newInDialogRequest builds a request within this leg's dialog (RFC 3261
// §12.2.1.1): R-URI = remote target, Route = route set (or the strict
// router's form, requestTarget), From/To/Call-ID of
// the dialog, a new CSeq, natsbc's own Via and Contact. seq 0 takes the
// next CSeq; ACK and CANCEL pass the INVITE's.
func (l *leg) newInDialogRequest(method sip.RequestMethod, seq uint32) *sip.Request {
	l.mu.Lock()
	target := l.remoteTarget
	routes := append([]sip.Uri(nil), l.routeSet...)
	hop := l.nextHop
	remoteTag := l.remoteTag
	f := legFace{l.sock, l.adv, l.transport}
	l.mu.Unlock()
	if seq == 0 {
		seq = l.nextCSeq()
	}

	ruri, routes := requestTarget(target, routes)
	req := sip.NewRequest(method, *ruri.Clone())
	req.AppendHeader(f.via())
	for _, r := range routes {
		req.AppendHeader(&sip.RouteHeader{Address: *r.Clone()})
	}
	from := &sip.FromHeader{DisplayName: l.localName, Address: *l.local.Clone(), Params: sip.NewParams()}
	from.Params.Add("tag", l.localTag)
	req.AppendHeader(from)
	to := &sip.ToHeader{DisplayName: l.remName, Address: *l.remote.Clone(), Params: sip.NewParams()}
	if remoteTag != "" {
		to.Params.Add("tag", remoteTag)
	}
	req.AppendHeader(to)
	cid := sip.CallIDHeader(l.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	if refreshesTarget(method) {
		req.AppendHeader(f.contactHeader())
	}
	// RFC 3261 §20.14: Content-Length is mandatory on stream transports;
	// callers that add a body replace it.
	req.SetBody(nil)
	f.address(req, hop)
	return req
}

// address points req at hop out of this leg's socket. UDP requests leave
// from the listening socket itself (never a new ephemeral one, which a NAT
// in front of the peer would not let back in); TCP requests go over the
// pooled connection to hop, which for a NATed peer is the connection it
// opened to us.
func (l *leg) address(req *sip.Request, hop string) { l.face().address(req, hop) }

func (f legFace) address(req *sip.Request, hop string) {
	req.SetTransport(f.transport)
	req.SetDestination(hop)
	if isUDP(f.transport) {
		f.sock.laddr.Copy(&req.Laddr)
	}
}

// refreshesTarget lists the methods whose Contact is the dialog's remote
// target (RFC 3261 §12.2, RFC 3311 §5.1, RFC 3515 §2.4.5).
func refreshesTarget(m sip.RequestMethod) bool {
	switch m {
	case sip.INVITE, sip.UPDATE, sip.SUBSCRIBE, sip.NOTIFY, sip.REFER:
		return true
	}
	return false
}

func (l *leg) routeInfo() routeChoice {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.route
}

// sibling is another early dialog of the same INVITE (a fork answering with
// its own To tag, RFC 3261 §12.1.2): same local side, other remote tag.
func (l *leg) sibling(remoteTag string) *leg {
	l.mu.Lock()
	defer l.mu.Unlock()
	return &leg{
		side: l.side, sock: l.sock, adv: l.adv, transport: l.transport,
		callID: l.callID, localTag: l.localTag,
		local: l.local, localName: l.localName, remote: l.remote, remName: l.remName,
		peer: l.peer, source: l.source, remoteTag: remoteTag, localCSeq: l.localCSeq,
		remoteTarget: l.remoteTarget, nextHop: l.nextHop,
	}
}
