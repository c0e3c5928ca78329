package ingress

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

// Bounds on what a guard-made answer may copy: the answer must never be a
// way to reflect a large datagram at a spoofed source.
const (
	maxReplyHeaderLen = 1024
	maxReplySize      = 4096
)

var errUnanswerable = errors.New("cannot build an answer")

// buildReply writes the minimal stateless answer to a scanned request:
// status line, all Vias (the top one with received/rport), From, To with a
// tag, Call-ID, CSeq and Content-Length: 0. Via and CSeq are required: a
// client transaction matches a response on the top Via branch and the CSeq
// method (RFC 3261 §17.1.3); From, To and Call-ID are copied when sane.
func buildReply(r scannedRequest, code int, reason string, src netip.AddrPort) ([]byte, error) {
	// §17: an ACK is never answered.
	if !src.IsValid() || r.method == "ACK" || len(r.vias) == 0 || !saneValue(r.cseq, maxReplyHeaderLen) {
		return nil, errUnanswerable
	}
	if _, method, _ := strings.Cut(r.cseq, " "); strings.TrimSpace(method) == "ACK" {
		return nil, errUnanswerable
	}
	var b strings.Builder
	b.WriteString("SIP/2.0 " + strconv.Itoa(code) + " " + reason + "\r\n")
	for i, via := range r.vias {
		if !saneValue(via, maxReplyHeaderLen) {
			return nil, errUnanswerable
		}
		if i == 0 {
			via = stampTopVia(via, src)
		}
		b.WriteString("Via: " + via + "\r\n")
	}
	if saneValue(r.from, maxReplyHeaderLen) {
		b.WriteString("From: " + r.from + "\r\n")
	}
	if saneValue(r.to, maxReplyHeaderLen) {
		to := r.to
		// §8.2.6.2: a response other than 100 carries a To tag.
		if !hasTagParam(to) {
			to += ";tag=" + newTag()
		}
		b.WriteString("To: " + to + "\r\n")
	}
	if saneValue(r.callID, maxIdentifierLen) {
		b.WriteString("Call-ID: " + r.callID + "\r\n")
	}
	b.WriteString("CSeq: " + r.cseq + "\r\n")
	b.WriteString("Content-Length: 0\r\n\r\n")
	if b.Len() > maxReplySize {
		return nil, errUnanswerable
	}
	return []byte(b.String()), nil
}

// saneValue: non-empty, bounded, and free of control characters other than
// HTAB, so the value cannot break or forge lines of our answer.
func saneValue(v string, max int) bool {
	if v == "" || len(v) > max {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// stampTopVia adds received/rport to the first Via value of a line.
//
// RFC 3581 §4: when the request has "rport" (without value) the server MUST
// fill it with the source port and MUST add "received" with the source IP.
// RFC 3261 §18.2.1: "received" is added when the sent-by host differs from
// the source IP.
func stampTopVia(line string, src netip.AddrPort) string {
	top, rest := splitFirstViaValue(line)
	segs := strings.Split(top, ";")
	sentBy := strings.TrimSpace(segs[0])
	var params []string
	hasRport := false
	for _, p := range segs[1:] {
		key, _, _ := strings.Cut(p, "=")
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "received":
			continue // we state what we saw, not what someone claimed
		case "rport":
			hasRport = true
			continue
		}
		params = append(params, strings.TrimSpace(p))
	}
	srcIP := src.Addr().Unmap().WithZone("")
	if hasRport || !sentByHostIs(sentBy, srcIP) {
		params = append(params, "received="+srcIP.String())
	}
	if hasRport {
		params = append(params, "rport="+strconv.Itoa(int(src.Port())))
	}
	out := sentBy
	for _, p := range params {
		if p != "" {
			out += ";" + p
		}
	}
	return out + rest
}

// splitFirstViaValue splits "v1, v2" at the first comma outside quotes.
func splitFirstViaValue(line string) (first, rest string) {
	inQuote := false
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				return line[:i], line[i:]
			}
		}
	}
	return line, ""
}

// sentByHostIs reports whether "SIP/2.0/UDP host[:port]" names ip.
func sentByHostIs(sentBy string, ip netip.Addr) bool {
	fields := strings.Fields(sentBy)
	if len(fields) == 0 {
		return false
	}
	hostport := fields[len(fields)-1]
	host := hostport
	if ap, err := netip.ParseAddrPort(hostport); err == nil {
		return ap.Addr().Unmap() == ip
	}
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.Contains(hostport[:i], ":") {
		host = hostport[:i]
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap() == ip
}

// hasTagParam looks for ";tag=" among the header parameters, ignoring the
// URI's own parameters inside <...>.
func hasTagParam(v string) bool {
	if i := strings.LastIndexByte(v, '>'); i >= 0 {
		v = v[i+1:]
	} else if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[i:]
	} else {
		return false
	}
	for _, p := range strings.Split(v, ";") {
		key, _, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(key), "tag") {
			return true
		}
	}
	return false
}

// newTag returns a random To tag (RFC 3261 §19.3: at least 32 random bits).
func newTag() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
