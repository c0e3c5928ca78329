package loadgen

import "strconv"

const userAgent = "natsbc-loadgen"

// request is a request the generator sends; build turns it into bytes.
type request struct {
	method   string
	ruri     string
	via      string // the single Via value, branch included
	from, to string // whole header values, tags included
	callID   string
	cseq     uint32
	contact  string   // URI; empty for none
	routes   []string // Route header values, in order
	body     string   // SDP or empty
}

// RFC 3261 §8.1.1: To, From, CSeq, Call-ID, Max-Forwards and Via are
// mandatory in every request; Content-Length is on UDP too (§20.14).
func (r *request) build() []byte {
	b := make([]byte, 0, 512+len(r.body))
	b = append(b, r.method...)
	b = append(b, ' ')
	b = append(b, r.ruri...)
	b = append(b, " SIP/2.0\r\nVia: "...)
	b = append(b, r.via...)
	b = append(b, "\r\nMax-Forwards: 70\r\n"...)
	for _, route := range r.routes {
		b = appendHeader(b, "Route", route)
	}
	b = appendHeader(b, "From", r.from)
	b = appendHeader(b, "To", r.to)
	b = appendHeader(b, "Call-ID", r.callID)
	b = appendHeader(b, "CSeq", strconv.FormatUint(uint64(r.cseq), 10)+" "+r.method)
	if r.contact != "" {
		b = appendHeader(b, "Contact", "<"+r.contact+">")
	}
	b = appendHeader(b, "User-Agent", userAgent)
	return appendBody(b, r.body)
}

// response builds a response to req (RFC 3261 §8.2.6.2): Via, From,
// Call-ID and CSeq copied, To copied with toTag added when it has none.
// Responses of an INVITE that create a dialog also carry the Contact and
// the Record-Route of the request (§12.1.1), so the caller's route set
// runs through every proxy that asked to stay in the path.
func response(req *sipMessage, status int, reason, toTag, contact, body string) []byte {
	b := make([]byte, 0, 512+len(body))
	b = append(b, "SIP/2.0 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, reason...)
	b = append(b, "\r\n"...)
	for _, via := range req.vias {
		b = appendHeader(b, "Via", via)
	}
	dialog := req.method == "INVITE" && status > 100 && status < 300
	if dialog {
		for _, rr := range req.recordRoute {
			b = appendHeader(b, "Record-Route", rr)
		}
	}
	b = appendHeader(b, "From", req.from)
	to := req.to
	if toTag != "" && tagOf(to) == "" && status > 100 {
		to += ";tag=" + toTag
	}
	b = appendHeader(b, "To", to)
	b = appendHeader(b, "Call-ID", req.callID)
	b = appendHeader(b, "CSeq", strconv.FormatUint(uint64(req.cseq), 10)+" "+req.cseqMethod)
	if dialog && contact != "" {
		b = appendHeader(b, "Contact", "<"+contact+">")
	}
	b = appendHeader(b, "Server", userAgent)
	return appendBody(b, body)
}

func appendHeader(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}

func appendBody(b []byte, body string) []byte {
	if body != "" {
		b = appendHeader(b, "Content-Type", "application/sdp")
	}
	b = appendHeader(b, "Content-Length", strconv.Itoa(len(body)))
	b = append(b, "\r\n"...)
	return append(b, body...)
}

// via is a Via value for UDP from local with the given branch (RFC 3261
// §8.1.1.7: the magic cookie z9hG4bK starts every branch; RFC 3581: rport
// asks for the response to come back to the source port).
func via(local string, branch string) string {
	return "SIP/2.0/UDP " + local + ";branch=z9hG4bK" + branch + ";rport"
}

// routeSet holds where a dialog's in-dialog requests go (RFC 3261 §12.2.1.1).
type routeSet struct {
	target string   // remote target: the peer's Contact URI
	routes []string // Route values in order; the caller's is the reversed Record-Route
}

// uacRouteSet is §12.1.2: the UAC takes the Record-Route of the 2xx in
// reverse order.
func uacRouteSet(resp *sipMessage) routeSet {
	rs := routeSet{target: resp.contact}
	for i := len(resp.recordRoute) - 1; i >= 0; i-- {
		rs.routes = append(rs.routes, resp.recordRoute[i])
	}
	return rs
}

// next returns the Request-URI, the Route values and the URI whose address
// the request is sent to. §12.2.1.1: with a loose router first (lr), the
// Request-URI is the remote target and the request goes to the first
// route; with a strict router first, the Request-URI is that router and
// the remote target goes last in Route. Without routes it goes to the
// target.
func (rs routeSet) next() (ruri string, routes []string, hop string) {
	if len(rs.routes) == 0 {
		return rs.target, nil, rs.target
	}
	first := nameAddrURI(rs.routes[0])
	if u, err := parseSIPURI(first); err == nil && !u.lr {
		routes = append(append(routes, rs.routes[1:]...), "<"+rs.target+">")
		return first, routes, first
	}
	return rs.target, rs.routes, first
}
