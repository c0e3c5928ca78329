package sbc

import (
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/registrar"
)

// regContact is one Contact of a REGISTER and the interval it asks for.
type regContact struct {
	hdr   *sip.ContactHeader
	key   string // binding key: AoR + contact URI
	asked int    // seconds, or registrar.NoExpires
}

// regRequest is what natsbc reads from a phone's REGISTER.
type regRequest struct {
	aor      string
	wildcard bool // "Contact: *" with Expires: 0 removes every binding (§10.2.2)
	contacts []regContact
}

// parseRegister reads the AoR and the contacts of a REGISTER. RFC 3261
// §10.3 step 6: "*" is only valid alone and with Expires: 0.
func parseRegister(req *sip.Request) (regRequest, *Reject) {
	to := req.To()
	if to == nil {
		return regRequest{}, &Reject{Code: 400, Reason: "Missing To"}
	}
	r := regRequest{aor: addressOfRecord(to.Address)}
	headerExpires := registrar.NoExpires
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || n < 0 {
			return regRequest{}, &Reject{Code: 400, Reason: "Bad Expires"}
		}
		headerExpires = n
	}
	for _, h := range req.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			return regRequest{}, &Reject{Code: 400, Reason: "Bad Contact"}
		}
		if c.Address.Wildcard {
			r.wildcard = true
			continue
		}
		asked := headerExpires
		if v, ok := c.Params.Get("expires"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				return regRequest{}, &Reject{Code: 400, Reason: "Bad Contact expires"}
			}
			asked = n
		}
		r.contacts = append(r.contacts, regContact{hdr: c, key: r.aor + "\x00" + contactKey(c.Address), asked: asked})
	}
	if r.wildcard && (len(r.contacts) > 0 || headerExpires != 0) {
		return regRequest{}, &Reject{Code: 400, Reason: "Invalid Contact: *"}
	}
	return r, nil
}

// tableContacts is what the binding table keeps of the contacts.
func (r regRequest) tableContacts() []registrar.Contact {
	out := make([]registrar.Contact, len(r.contacts))
	for i, c := range r.contacts {
		out[i] = registrar.Contact{Key: c.key, URI: c.hdr.Address, Asked: c.asked}
	}
	return out
}

// addressOfRecord is the AoR a binding belongs to: the To URI without
// parameters, host in lower case (RFC 3261 §10.3 step 5).
func addressOfRecord(u sip.Uri) string {
	scheme := u.Scheme
	if scheme == "" {
		scheme = "sip"
	}
	s := scheme + ":"
	if u.User != "" {
		s += u.User + "@"
	}
	s += strings.ToLower(u.Host)
	if u.Port != 0 {
		s += ":" + strconv.Itoa(u.Port)
	}
	return s
}

// contactKey identifies a contact across refreshes (RFC 3261 §10.3 step 7
// compares URIs; parameters of the URI are part of it, header parameters
// such as expires are not).
func contactKey(u sip.Uri) string {
	c := *u.Clone()
	c.Host = strings.ToLower(c.Host)
	return c.String()
}
