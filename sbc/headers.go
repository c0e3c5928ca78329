package sbc

import (
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/policy"
)

// headerClass is what natsbc does with a header when it carries a message
// from one side to the other. There is one table (headerClasses) for every
// relay path, calls and registrations alike; each path says which classes
// it carries.
type headerClass uint8

const (
	// endToEnd headers pass untouched: everything not listed below,
	// including the digest headers. RFC 3261 §22: a 401/407's
	// WWW-Authenticate/Proxy-Authenticate must reach the caller, and the
	// credentials of its retried request must reach the PBX as they are.
	endToEnd headerClass = iota
	// topology headers name one side's hops; natsbc builds its own on
	// every leg. Copying one across leaks addresses or breaks routing.
	topology
	// dialogID headers identify a dialog (RFC 3261 §12): a call's legs
	// each have their own; a relayed REGISTER keeps the phone's.
	dialogID
	// body headers are set with the body natsbc writes.
	body
	// software headers name the product on the far side; calls hide them
	// (a scanner learns nothing of the PBX), a REGISTER carries the phone's
	// User-Agent to the PBX.
	software
	// identity headers assert who the caller is (RFC 3325 §5): they pass
	// only from a peer trusted to assert identity (trust_identity).
	identity
	// registerExpiry is rebuilt on a relayed REGISTER response, where
	// natsbc grants its own interval.
	registerExpiry
	// perLeg headers are negotiated by natsbc with each side on its own:
	// session timers (RFC 4028, session_timer.go) and reliable provisionals
	// (RFC 3262, rel100.go). Never carried.
	perLeg
)

// headerClasses classifies headers by lower-case name; compact forms
// (RFC 3261 §7.3.3) are listed too. Unlisted headers are endToEnd.
var headerClasses = map[string]headerClass{
	"via": topology, "v": topology,
	"route": topology, "record-route": topology,
	"contact": topology, "m": topology,
	"max-forwards": topology,
	// Path and Service-Route carry proxy addresses (RFC 3327, RFC 3608).
	"path": topology, "service-route": topology,

	"call-id": dialogID, "i": dialogID,
	"from": dialogID, "f": dialogID,
	"to": dialogID, "t": dialogID,
	"cseq": dialogID,

	"content-length": body, "l": body,
	"content-type": body, "c": body,

	"server": software, "user-agent": software,

	"p-asserted-identity": identity, "p-preferred-identity": identity,
	"remote-party-id": identity, "privacy": identity,

	"expires": registerExpiry,

	"session-expires": perLeg, "x": perLeg, "min-se": perLeg,
	"rseq": perLeg, "rack": perLeg,
}

func classOf(name string) headerClass { return headerClasses[strings.ToLower(name)] }

// carried says which header classes one relay path copies from the message
// it received onto the one it sends.
type carried struct {
	dialogID, body, software, registerExpiry bool
	// identity: the sender is trusted to assert identity.
	identity bool
}

func (k carried) copies(c headerClass) bool {
	switch c {
	case endToEnd:
		return true
	case dialogID:
		return k.dialogID
	case body:
		return k.body
	case software:
		return k.software
	case identity:
		return k.identity
	case registerExpiry:
		return k.registerExpiry
	}
	return false
}

// copyHeaders copies the headers of src that path k carries onto dst, in
// their order.
func copyHeaders(dst, src sip.Message, k carried) {
	for _, h := range allHeaders(src) {
		if k.copies(classOf(h.Name())) {
			dst.AppendHeader(sip.HeaderClone(h))
		}
	}
}

// copyEndToEnd copies what crosses a call from one leg to the other: the
// end-to-end headers, and identity headers when the sending peer is trusted
// (RFC 3325 §5: from anyone else they are removed, so an endpoint cannot
// claim another caller's identity to the PBX). Reliable provisionals
// (RFC 3262) are per leg: natsbc decides on each leg whether to use them
// and writes 100rel, RSeq and RAck itself (rel100.go, prack.go), so the
// 100rel option tag is taken out of Supported and Require here.
func copyEndToEnd(dst, src sip.Message, sender policy.Peer) {
	k := carried{identity: sender.TrustIdentity}
	for _, h := range allHeaders(src) {
		name := strings.ToLower(h.Name())
		if !k.copies(headerClasses[name]) {
			continue
		}
		switch name {
		case "supported", "k", "require":
			if !containsFold(h.Value(), "100rel") {
				break
			}
			v := withoutToken(h.Value(), "100rel")
			if v == "" {
				continue
			}
			canonical := "Supported"
			if name == "require" {
				canonical = "Require"
			}
			dst.AppendHeader(sip.NewHeader(canonical, v))
			continue
		}
		dst.AppendHeader(sip.HeaderClone(h))
	}
}

// setBody puts body and its Content-Type on msg.
func setBody(msg sip.Message, contentType string, body []byte) {
	if len(body) > 0 && contentType != "" {
		ct := sip.ContentTypeHeader(contentType)
		msg.AppendHeader(&ct)
	}
	msg.SetBody(body)
}

func contentType(msg sip.Message) string {
	for _, h := range msg.GetHeaders("Content-Type") {
		return h.Value()
	}
	return ""
}

func allHeaders(m sip.Message) []sip.Header {
	switch v := m.(type) {
	case *sip.Request:
		return v.Headers()
	case *sip.Response:
		return v.Headers()
	}
	return nil
}

func withoutToken(list, token string) string {
	var keep []string
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if t != "" && !strings.EqualFold(t, token) {
			keep = append(keep, t)
		}
	}
	return strings.Join(keep, ", ")
}

// addOptionTag adds an option tag to msg's Supported or Require header,
// into the one already there: every extension natsbc uses on a leg (timer,
// 100rel) is listed in one header line, which the simplest parsers (and
// sipp's header matching) read whole.
func addOptionTag(msg editable, header, tag string) {
	if hasToken(msg, header, tag) {
		return
	}
	for _, h := range allHeaders(msg) {
		if strings.EqualFold(h.Name(), header) || (header == "Supported" && strings.EqualFold(h.Name(), "k")) {
			v := strings.TrimSpace(h.Value())
			msg.RemoveHeader(h.Name())
			if v != "" {
				tag = v + ", " + tag
			}
			break
		}
	}
	msg.AppendHeader(sip.NewHeader(header, tag))
}

func hasToken(m sip.Message, header, token string) bool {
	for _, h := range m.GetHeaders(header) {
		for _, t := range strings.Split(h.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

func lower(s string) string { return strings.ToLower(s) }
