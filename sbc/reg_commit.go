package sbc

import (
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// commitBindings applies the PBX's 2xx to the binding table: the
// interval the PBX granted each of natsbc's token Contacts it lists (RFC
// 3261 §10.3 step 8: the 2xx lists every current binding). It returns the
// interval granted to the phone per binding id.
func (s *Server) commitBindings(x *regExchange, res *sip.Response) map[uint64]int {
	pbxGranted := map[uint64]int{}
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok || c.Address.Wildcard {
			continue
		}
		id, err := s.ownToken(c.Address)
		if err != nil {
			continue
		}
		pbxGranted[id] = contactExpires(c, res)
	}
	return s.reg.Commit(x.Exchange, pbxGranted)
}

// contactExpires is a Contact's interval in a REGISTER response: its
// expires parameter, else the Expires header, else 3600 (RFC 3261 §10.2.1.1).
func contactExpires(c *sip.ContactHeader, res *sip.Response) int {
	if v, ok := c.Params.Get("expires"); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
			return n
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n >= 0 {
			return n
		}
	}
	return 3600
}

// answerCachedRefresh answers a refresh that changes nothing from the
// binding table, as long as the PBX binding outlives the phone's next
// refresh (registration caching). It reports whether it answered.
func (s *Server) answerCachedRefresh(x *regExchange) bool {
	granted, ok := s.reg.AnswerCached(x.Exchange)
	if !ok {
		return false
	}
	res := s.newResponse(x.req, 200, "OK")
	res.To().Params.Add("tag", newLocalTag())
	for i, c := range x.parsed.contacts {
		res.AppendHeader(phoneContact(c.hdr, granted[i]))
	}
	s.respond(x.tx, x.req, res)
	return true
}

// phoneContact is the phone's own Contact as the 2xx lists it back, with
// the interval natsbc grants it.
func phoneContact(orig *sip.ContactHeader, expires int) *sip.ContactHeader {
	h := &sip.ContactHeader{DisplayName: orig.DisplayName, Address: *orig.Address.Clone(), Params: sip.NewParams()}
	for _, k := range orig.Params.Keys() {
		if k == "expires" {
			continue
		}
		v, _ := orig.Params.Get(k)
		h.Params.Add(k, v)
	}
	h.Params.Add("expires", strconv.Itoa(expires))
	return h
}

// relayRegisterResponse turns the PBX's answer into the phone's: natsbc's
// token Contacts become the phone's own again, with the interval natsbc
// grants (granted, nil for a non-2xx); Contacts of other devices registered
// directly at the PBX pass; natsbc addresses never reach the phone.
func (s *Server) relayRegisterResponse(x *regExchange, res *sip.Response, granted map[uint64]int) *sip.Response {
	out := s.newResponse(x.req, res.StatusCode, res.Reason)
	if tag := toTag(res); tag != "" {
		out.To().Params.Add("tag", tag)
	}
	// Path and Service-Route (RFC 3327, RFC 3608) name PBX-side hops, and
	// natsbc grants its own Expires: neither is carried.
	copyHeaders(out, res, carried{identity: s.policy.Classify(x.PBX.Dst.Addr()).TrustIdentity})
	if granted == nil {
		return out
	}
	minGranted := -1
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			continue
		}
		id, err := s.ownToken(c.Address)
		switch {
		case err == nil:
			if b, ok := s.reg.Get(id); ok {
				g, mine := granted[id]
				if !mine {
					g = contactExpires(c, res)
				}
				if mine && (minGranted < 0 || g < minGranted) {
					minGranted = g
				}
				out.AppendHeader(phoneContact(&sip.ContactHeader{Address: b.URI, Params: c.Params}, g))
			}
		case !s.pointsAtUs(c.Address):
			out.AppendHeader(sip.HeaderClone(c))
		}
	}
	if minGranted >= 0 && res.GetHeader("Expires") != nil {
		out.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(minGranted)))
	}
	return out
}

// pointsAtUs reports whether a URI names one of natsbc's own sockets.
func (s *Server) pointsAtUs(u sip.Uri) bool {
	ap := uriAddrPort(u)
	return ap.IsValid() && s.isOwnAddress(ap)
}
