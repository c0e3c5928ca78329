package sbc

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// hopHeaders are the headers that describe a leg's dialog or topology. A
// B2BUA builds them itself on each leg; copying one across would leak one
// side's addresses to the other or corrupt the other dialog. Compact forms
// (RFC 3261 §7.3.3) are listed too.
var hopHeaders = map[string]bool{
	"via": true, "v": true,
	"route": true, "record-route": true,
	"contact": true, "m": true,
	"call-id": true, "i": true,
	"from": true, "f": true,
	"to": true, "t": true,
	"cseq": true, "max-forwards": true,
	"content-length": true, "l": true,
	"content-type": true, "c": true,
	"server": true, "user-agent": true,
	// Path and Service-Route carry proxy addresses (RFC 3327, RFC 3608).
	"path": true, "service-route": true,
	// Authorization for the A-leg's dialog cannot be valid on the B-leg's.
	"proxy-authorization": true, "proxy-authenticate": true,
}

// copyEndToEnd copies the end-to-end headers of src onto dst: everything
// that is not a hop header. Reliable provisionals (RFC 3262) are per leg:
// natsbc decides on each leg whether to use them and writes 100rel, RSeq
// and RAck itself (rel100.go, prack.go), so none of them crosses.
func copyEndToEnd(dst, src sip.Message) {
	for _, h := range allHeaders(src) {
		name := strings.ToLower(h.Name())
		if hopHeaders[name] {
			continue
		}
		switch name {
		case "rseq", "rack":
			continue
		case "supported", "k", "require":
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
