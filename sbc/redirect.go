package sbc

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/policy"
)

// maxRedirectTargets bounds how many 3xx Contacts one call tries (RFC
// 3261 §8.1.3.4 leaves the bound to the UAC; a redirect loop ends here
// even when every hop names a new URI).
const maxRedirectTargets = 5

// redirects is what one initial INVITE has followed: the targets left, in
// q-value order, and every URI already tried, so a loop of 3xx ends.
type redirects struct {
	targets []redirectTarget
	tried   map[string]bool
	count   int
}

type redirectTarget struct {
	uri sip.Uri
	q   float64
}

// followRedirect handles a 3xx of the B-leg's initial INVITE when the
// callee's peer wants it followed (policy.RedirectFollow): RFC 3261
// §8.1.3.4, a new INVITE on the same B-leg (same Call-ID, From tag, To
// without tag; new CSeq and branch) to the next Contact in q-value order
// that natsbc's routes allow. It returns the new INVITE and its
// transaction, or nil when the 3xx goes to the caller.
func (c *call) followRedirect(ctx context.Context, p *pendingInvite, res *sip.Response) (*sip.Request, sip.ClientTransaction) {
	if res.StatusCode/100 != 3 || c.b.peerOf().RelaysRedirects() {
		return nil, nil
	}
	r := &p.redirects
	if r.tried == nil {
		r.tried = map[string]bool{redirectKey(p.out.Recipient): true}
	}
	r.add(res)
	for len(r.targets) > 0 && r.count < maxRedirectTargets {
		t := r.targets[0]
		r.targets = r.targets[1:]
		r.count++
		out, err := c.redirectTo(t.uri, p.out)
		if err != nil {
			c.log.Info("redirect target refused", "status", res.StatusCode, "target", t.uri.String(), "why", err.Error())
			continue
		}
		otx, err := c.s.send(ctx, out)
		if err != nil {
			c.log.Info("redirect target not reached", "target", t.uri.String(), "error", err)
			continue
		}
		c.log.Info("redirect followed", "status", res.StatusCode, "target", t.uri.String(), "b_next_hop", out.Destination())
		return out, otx
	}
	return nil, nil
}

// add queues the Contacts of a 3xx not tried yet, highest q first (RFC
// 3261 §8.1.3.4; equal q keep their order).
func (r *redirects) add(res *sip.Response) {
	for _, h := range res.GetHeaders("Contact") {
		ch, ok := h.(*sip.ContactHeader)
		if !ok || ch.Address.Wildcard {
			continue
		}
		u := *ch.Address.Clone()
		// RFC 3261 §8.1.3.4: the URI is copied except its method and
		// header parameters.
		u.Headers = nil
		if u.UriParams != nil {
			u.UriParams.Remove("method")
		}
		key := redirectKey(u)
		if r.tried[key] {
			continue
		}
		r.tried[key] = true
		r.targets = append(r.targets, redirectTarget{uri: u, q: qValue(ch)})
	}
	slices.SortStableFunc(r.targets, func(a, b redirectTarget) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return 0
	})
}

// qValue is a Contact's preference (RFC 3261 §20.10), 1 when absent.
func qValue(ch *sip.ContactHeader) float64 {
	if ch.Params == nil {
		return 1
	}
	v, ok := ch.Params.Get("q")
	if !ok {
		return 1
	}
	q, err := strconv.ParseFloat(v, 64)
	if err != nil || q < 0 || q > 1 {
		return 0
	}
	return q
}

func redirectKey(u sip.Uri) string {
	return strings.ToLower(u.Scheme + ":" + u.User + "@" + uriHostPort(u))
}

var (
	errRedirectNoRoute   = errors.New("no route allows it")
	errRedirectLoop      = errors.New("it is natsbc itself")
	errRedirectElsewhere = errors.New("another socket or transport faces it than the B-leg's")
)

// redirectTo builds the B-leg's INVITE to a 3xx target. natsbc goes only
// where its routes would send the caller's INVITE for that URI (a
// request-uri route, or the routed peer's own address), so a 3xx cannot
// make it an open relay; and only out of the B-leg's socket, whose address
// the offer's SDP already names.
func (c *call) redirectTo(target sip.Uri, prev *sip.Request) (*sip.Request, error) {
	s, b := c.s, c.b
	if !strings.EqualFold(target.Scheme, "sip") {
		return nil, errRedirectNoRoute
	}
	route, err := s.policy.Route(c.a.peerOf(), requestURIOf(&sip.Request{Recipient: target}))
	if err != nil {
		return nil, errRedirectNoRoute
	}
	want := joinHostPort(route.Host, portOr5060(route.Port))
	if route.Kind != policy.TargetRequestURI && !strings.EqualFold(want, uriHostPort(target)) {
		return nil, errRedirectNoRoute
	}
	// RFC 3263 as for any target: its first address now, the others
	// by tryNext.
	hops, err := s.locate(uriQuery(target))
	if errors.Is(err, errOwnAddress) {
		return nil, errRedirectLoop
	}
	if err != nil {
		return nil, err
	}
	dst := hops[0].dst
	transport := strings.ToUpper(route.Transport)
	if transport == "" {
		transport = "UDP"
	}
	sock, _, err := s.facing(lower(transport), dst.Addr())
	if err != nil {
		return nil, err
	}
	if f := b.face(); sock != f.sock || !strings.EqualFold(transport, f.transport) {
		return nil, errRedirectElsewhere
	}

	b.mu.Lock()
	b.remoteTarget = target
	b.nextHop = dst.String()
	b.route = routeChoice{Rule: route.Rule + " (3xx)"}
	// RFC 3261 §8.1.3.4: the redirected INVITE is a new request, To
	// without tag. An early dialog the old target made (a provisional
	// with To tag and Record-Route before its 3xx) ends with the 3xx:
	// none of its tag, route set, CSeq numbers or NAT verdict carries over.
	b.remoteTag = ""
	b.routeSet, b.routeSetFixed = nil, false
	b.remoteCSeq = nil
	b.nated = false
	b.peer = peerFor(s.policy, dst.Addr(), route)
	b.source = dst
	b.mu.Unlock()
	// RFC 3263 §4.3 applies to the new target: after a timeout or 503
	// its own next addresses are tried, never the original target's
	// (they would get the redirect target's Request-URI).
	c.setAlternates(hops[1:])

	out := b.newInDialogRequest(sip.INVITE, 0)
	// prev is natsbc's own B-leg INVITE: its identity headers already
	// passed the caller's trust check.
	copyEndToEnd(out, prev, policy.Peer{TrustIdentity: true})
	if mf := prev.MaxForwards(); mf != nil {
		out.ReplaceHeader(sip.HeaderClone(mf))
	}
	setBody(out, contentType(prev), prev.Body())
	return out, nil
}

func portOr5060(p int) int {
	if p == 0 {
		return 5060
	}
	return p
}

// relayFinal answers the near leg with the far leg's final non-2xx. A 3xx
// keeps its Contacts (RFC 3261 §21.3): they are where the caller should
// try next, not natsbc's own address.
func (c *call) relayFinal(fromSide media.Leg, in *sip.Request, tx sip.ServerTransaction, res *sip.Response) {
	if res.StatusCode/100 != 3 {
		c.relayResponse(fromSide, in, tx, res, false)
		return
	}
	reply, _ := c.buildResponse(fromSide, in, res, false)
	for _, h := range res.GetHeaders("Contact") {
		reply.AppendHeader(sip.HeaderClone(h))
	}
	reply.SetBody(nil)
	reply.RemoveHeader("Content-Type")
	c.s.respond(tx, in, reply)
}
