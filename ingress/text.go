package ingress

import "bytes"

// headerTextClean reports whether a datagram's start line and header
// section (up to the first empty line, RFC 3261 §7) hold no NUL and no CR or
// LF outside a CRLF pair. sipgo builds every header name and value from the
// text between CRLFs (folded lines joined by a space) and adds only fixed
// punctuation when it writes them back, so such a message cannot fail
// checkHeaderText: the guard then skips that check, which would serialise
// every parsed header again. false only means "run the full check".
func headerTextClean(pkt []byte) bool {
	end := bytes.Index(pkt, []byte("\r\n\r\n"))
	if end < 0 {
		return false
	}
	head := pkt[:end+2]
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	// Every LF preceded by a CR, and as many CRs as LFs: no CR or LF is
	// left outside a pair.
	lfs := 0
	for i, c := range head {
		if c == '\n' {
			if i == 0 || head[i-1] != '\r' {
				return false
			}
			lfs++
		}
	}
	return bytes.Count(head, []byte{'\r'}) == lfs
}
