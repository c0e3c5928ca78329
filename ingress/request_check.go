package ingress

import (
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Reject is an ingress verdict that carries its SIP answer.
type Reject struct {
	Code   int
	Reason string
}

// Error renders the verdict as its status line tail, e.g. "400 Missing Call-ID".
func (r *Reject) Error() string { return strconv.Itoa(r.Code) + " " + r.Reason }

// maxIdentifierLen bounds Call-ID, tags and branch: they are keys of our
// dialog and transaction tables and end up in logs, so an attacker must not
// choose their size. Real stacks use well under 100 bytes.
const maxIdentifierLen = 256

func badRequest(reason string) *Reject { return &Reject{Code: 400, Reason: reason} }

// CheckRequest applies the RFC 3261 §8.2 (UAS) and §16.3 (proxy) request
// validation that sipgo leaves to the application. nil means acceptable.
//
// Max-Forwards: a UAS (§8.2) does not require it and a proxy that finds it
// missing adds one (§16.6 step 3), so a request without it is accepted; the
// B-leg request natsbc builds always carries its own. Max-Forwards: 0 gets
// 483 for every method, OPTIONS included (§16.3 step 3 lets an element answer
// such an OPTIONS itself; that is the caller's choice, not ingress's).
func CheckRequest(req *sip.Request) *Reject { return checkRequest(req, false) }

// checkRequest is CheckRequest; textClean says the caller has seen the raw
// header section free of what checkHeaderText looks for (headerTextClean).
func checkRequest(req *sip.Request, textClean bool) *Reject {
	if req == nil {
		return badRequest("Malformed Request")
	}
	// §8.2.1 / §21.5.7: we speak SIP/2.0 only.
	if !strings.EqualFold(req.SipVersion, "SIP/2.0") {
		return &Reject{Code: 505, Reason: "Version Not Supported"}
	}
	if !IsToken(string(req.Method)) {
		return badRequest("Malformed Method")
	}
	// §8.2.2.1: a scheme we do not understand gets 416.
	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips":
		if req.Recipient.Host == "" {
			return badRequest("Malformed Request-URI")
		}
	case "tel":
	default:
		return &Reject{Code: 416, Reason: "Unsupported URI Scheme"}
	}
	if !textClean {
		if rej := checkHeaderText(req); rej != nil {
			return rej
		}
	}
	if rej := checkMandatory(req); rej != nil {
		return rej
	}
	// §8.1.1.3: the UAC MUST add a From tag; without it no dialog can be identified.
	tag, ok := req.From().Params.Get("tag")
	if !ok || tag == "" {
		return badRequest("Missing From tag")
	}
	if len(tag) > maxIdentifierLen {
		return badRequest("From tag too long")
	}
	if tag, _ := req.To().Params.Get("tag"); len(tag) > maxIdentifierLen {
		return badRequest("To tag too long")
	}
	// §8.1.1.5: the CSeq method MUST match the request's (ACK and CANCEL
	// carry their own method there too).
	if strings.TrimSpace(string(req.CSeq().MethodName)) != string(req.Method) {
		return badRequest("CSeq Method Mismatch")
	}
	if rej := checkBody(req); rej != nil {
		return rej
	}
	// §16.3 step 3: a request that has run out of hops is not forwarded.
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 {
		return &Reject{Code: 483, Reason: "Too Many Hops"}
	}
	return nil
}

// CheckResponse tells whether a response is complete enough to be matched
// to a transaction (RFC 3261 §8.1.3.3, §17.1.3); a response is never
// answered, so a non-nil result means drop.
func CheckResponse(res *sip.Response) *Reject { return checkResponse(res, false) }

// checkResponse is CheckResponse; textClean as for checkRequest.
func checkResponse(res *sip.Response, textClean bool) *Reject {
	if res == nil {
		return badRequest("Malformed Response")
	}
	if !strings.EqualFold(res.SipVersion, "SIP/2.0") {
		return &Reject{Code: 505, Reason: "Version Not Supported"}
	}
	if res.StatusCode < 100 || res.StatusCode > 699 {
		return badRequest("Bad Status Code")
	}
	if !textClean {
		if rej := checkHeaderText(res); rej != nil {
			return rej
		}
	}
	return checkMandatory(res)
}

// singletonHeaders may appear at most once (RFC 3261 §7.3.1: only
// comma-list headers may repeat).
var singletonHeaders = [...]string{"Call-ID", "From", "To", "CSeq", "Max-Forwards", "Content-Length"}

// duplicateSingleton returns the first of singletonHeaders (in that order)
// that hs holds more than once, or "". Names compare ASCII case-blind, as
// sipgo's GetHeaders does, in one pass that allocates nothing (GetHeaders
// lowers every name it does not know by heart into a new string).
func duplicateSingleton(hs []sip.Header) string {
	var seen [len(singletonHeaders)]int
	for _, h := range hs {
		name := h.Name()
		for i, want := range singletonHeaders {
			if asciiEqualFold(name, want) {
				seen[i]++
			}
		}
	}
	for i, n := range seen {
		if n > 1 {
			return singletonHeaders[i]
		}
	}
	return ""
}

// asciiEqualFold is strings.EqualFold for ASCII letters only: unlike it,
// "ſ" (U+017F) does not match "s", just as in sipgo's header lookup.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// checkMandatory: §8.1.1 lists To, From, CSeq, Call-ID, Max-Forwards and Via
// as the minimum; Max-Forwards is tolerated (see CheckRequest).
func checkMandatory(msg interface {
	sip.Message
	Headers() []sip.Header
}) *Reject {
	if name := duplicateSingleton(msg.Headers()); name != "" {
		return badRequest("Duplicate " + name)
	}
	switch {
	case msg.Via() == nil:
		return badRequest("Missing Via")
	case msg.From() == nil:
		return badRequest("Missing From")
	case msg.To() == nil:
		return badRequest("Missing To")
	case msg.CallID() == nil:
		return badRequest("Missing Call-ID")
	case msg.CSeq() == nil:
		return badRequest("Missing CSeq")
	}
	if len(*msg.CallID()) > maxIdentifierLen {
		return badRequest("Call-ID too long")
	}
	via := msg.Via()
	if !strings.EqualFold(via.ProtocolName, "SIP") || via.ProtocolVersion != "2.0" || via.Host == "" {
		return badRequest("Malformed Via")
	}
	if branch, _ := via.Params.Get("branch"); len(branch) > maxIdentifierLen {
		return badRequest("Via branch too long")
	}
	return nil
}

// checkHeaderText refuses header names or values holding CR, LF or NUL:
// sipgo splits lines on CR only, so a bare LF or NUL survives into values
// and would be written out again, splitting or truncating headers on the
// other leg (header injection).
//
// Every sipgo header writes itself as name, ": ", value (the same bytes its
// Value returns), so one scan of that output checks both; it runs twice per
// request and Value would build a new string for each parsed header.
func checkHeaderText(msg interface{ Headers() []sip.Header }) *Reject {
	scan := &lineBreakScan{}
	for _, h := range msg.Headers() {
		h.StringWrite(scan)
		if scan.found {
			return badRequest("Control Character in Header")
		}
	}
	return nil
}

// lineBreakScan is an io.StringWriter that keeps nothing and only notes
// whether CR, LF or NUL went through it.
type lineBreakScan struct{ found bool }

func (w *lineBreakScan) WriteString(s string) (int, error) {
	w.found = w.found || hasLineBreakOrNUL(s)
	return len(s), nil
}

// checkBody: §18.3, a Content-Length larger than the bytes received means
// the message is truncated.
func checkBody(msg sip.Message) *Reject {
	if cl := msg.ContentLength(); cl != nil && int(*cl) > len(msg.Body()) {
		return badRequest("Content-Length Exceeds Body")
	}
	return nil
}

func hasLineBreakOrNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c == 0 {
			return true
		}
	}
	return false
}

// IsToken reports whether s is an RFC 3261 §25.1 token (methods and header
// names are tokens).
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-.!%*_+`'~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
