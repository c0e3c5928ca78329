package sbc

import (
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// refreshMargin: natsbc forwards a phone's refresh to the PBX once the PBX
// binding would otherwise have less than one phone interval plus this left.
const refreshMargin = 10 * time.Second

// commitBindings applies the PBX's 2xx to the binding table: the contacts
// the PBX lists with a positive interval are registered, the others
// removed. It returns the interval granted to the phone per binding id.
// RFC 3261 §10.3 step 8: the 2xx lists every current binding, each with
// its expires parameter.
func (s *Server) commitBindings(x *regExchange, res *sip.Response) map[uint64]int {
	now := s.reg.now()
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

	granted := map[uint64]int{}
	s.reg.mu.Lock()
	var added, refreshed, removed []*binding
	for i, b := range x.bindings {
		g, listed := pbxGranted[b.id]
		if !listed || g == 0 || x.parsed.contacts[i].asked == 0 {
			if s.reg.store.remove(b) {
				removed = append(removed, b)
			}
			continue
		}
		phone := g
		if x.nat.keepalive {
			phone = min(g, int(s.cfg.Registrations.NATExpires/time.Second))
		}
		_, known := s.reg.store.byID(b.id)
		b.flow, b.pbx, b.asked = x.flow, x.pbx, x.parsed.contacts[i].asked
		b.nat, b.checks = x.nat.kind, x.nat.checks
		b.keepalive = x.nat.keepalive
		b.granted = phone
		b.expires = now.Add(time.Duration(phone) * time.Second)
		b.pbxExpires = now.Add(time.Duration(g) * time.Second)
		if !known {
			b.nextPing = now.Add(s.cfg.Keepalive.Interval)
			added = append(added, b)
		} else {
			refreshed = append(refreshed, b)
		}
		b.missed = 0
		b.awaitsReconnect = false
		s.reg.store.put(b)
		granted[b.id] = phone
	}
	if x.parsed.wildcard {
		for _, b := range s.reg.store.ofAOR(x.parsed.aor) {
			if s.reg.store.remove(b) {
				removed = append(removed, b)
			}
		}
	}
	disk := s.reg.toDisk(append(added, refreshed...), removed)
	s.reg.mu.Unlock()
	s.reg.writeDisk(disk, s.log)

	for _, b := range added {
		s.log.Info("binding registered", "aor", b.aor, "contact", b.uri.String(), "token", b.token,
			"source", b.flow.source.String(), "transport", lower(b.flow.transport), "socket", b.flow.sock.String(),
			"nat", b.nat, "checks", strings.Join(b.checks, ","), "expires", b.granted,
			"pbx_expires", pbxGranted[b.id])
	}
	for _, b := range refreshed {
		s.log.Debug("binding refreshed", "aor", b.aor, "token", b.token, "source", b.flow.source.String(), "forwarded", true)
	}
	for _, b := range removed {
		s.log.Info("binding removed", "aor", b.aor, "token", b.token, "reason", "unregistered")
	}
	return granted
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
	if x.parsed.wildcard || len(x.parsed.contacts) == 0 {
		return false
	}
	now := s.reg.now()
	granted := map[uint64]int{}
	s.reg.mu.Lock()
	for i, b := range x.bindings {
		cur, ok := s.reg.store.byID(b.id)
		c := x.parsed.contacts[i]
		if !ok || cur != b || c.asked == 0 || c.asked != b.asked ||
			b.flow.source != x.flow.source || b.flow.sock != x.flow.sock ||
			b.pbx.callID != x.pbx.callID || b.nat != x.nat.kind || b.awaitsReconnect ||
			b.pbxExpires.Sub(now) < time.Duration(b.granted)*time.Second+refreshMargin {
			s.reg.mu.Unlock()
			return false
		}
		granted[b.id] = b.granted
	}
	for _, b := range x.bindings {
		b.expires = now.Add(time.Duration(b.granted) * time.Second)
		b.missed = 0
	}
	// The phone side's expiry moved: a restart must not drop it earlier.
	disk := s.reg.toDisk(x.bindings, nil)
	s.reg.mu.Unlock()
	s.reg.writeDisk(disk, s.log)
	for _, b := range x.bindings {
		s.log.Debug("binding refreshed", "aor", b.aor, "token", b.token, "source", b.flow.source.String(), "forwarded", false)
	}
	res := s.newResponse(x.req, 200, "OK")
	res.To().Params.Add("tag", newLocalTag())
	for i, c := range x.parsed.contacts {
		res.AppendHeader(phoneContact(c.hdr, granted[x.bindings[i].id]))
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
	copyHeaders(out, res, carried{identity: s.policy.Classify(x.pbx.dst.Addr()).TrustIdentity})
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
			if b, ok := s.reg.store.byID(id); ok {
				g, mine := granted[id]
				if !mine {
					g = contactExpires(c, res)
				}
				if mine && (minGranted < 0 || g < minGranted) {
					minGranted = g
				}
				out.AppendHeader(phoneContact(&sip.ContactHeader{Address: b.uri, Params: c.Params}, g))
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
