package media

import "strconv"

// secureOut is how natsbc writes one m= section whose security it
// terminates, to the peer of the leg it is sent on: the protocol and the
// lines of natsbc's own end of it. The author's crypto, DTLS and ICE lines
// are not copied: they describe the other leg.
type secureOut struct {
	wire  wire
	proto string
	// crypto is natsbc's a=crypto value (SDES).
	crypto string
	// DTLS: natsbc's fingerprint and role, its ICE-lite credentials and
	// host candidate, and the a=mid the peer knows the section by.
	fingerprint, setup string
	ufrag, pwd         string
	mid                string
	// dropMux leaves out the author's a=rtcp-mux in an answer to a peer
	// that did not offer it (RFC 5761 §5.1.1): the other leg's mux is
	// natsbc's to keep, not this peer's.
	dropMux bool
}

// secureSession is what a body with DTLS sections carries at session
// level: a=ice-lite (RFC 8839 §5.3) and the BUNDLE group the peer offered.
type secureSession struct {
	iceLite bool
	bundle  []string
}

// secured reports whether the section being written is one whose
// security natsbc terminates.
func (w *sdpRewriter) secured() *secureOut {
	if w.sec == nil || w.index < 0 || w.index >= len(w.sec) || !w.enabled() {
		return nil
	}
	return w.sec[w.index]
}

// dropSecurityLine tells whether an attribute of the author is left out
// because natsbc writes its own end of the section's security instead.
func (w *sdpRewriter) dropSecurityLine(name string) bool {
	if w.index < 0 {
		if w.secSession == nil {
			return false
		}
		switch name {
		case "fingerprint", "setup", "group", "tls-id":
			return true
		}
		return isICEAttribute(name) || name == "ice-lite"
	}
	out := w.secured()
	if out == nil {
		return false
	}
	switch name {
	case "crypto", "fingerprint", "setup", "tls-id", "mid":
		return true
	case "rtcp-mux":
		// DTLS sections get natsbc's own (writeSectionSecurity).
		return out.wire == wireDTLS || out.dropMux
	}
	return isICEAttribute(name)
}

// writeSessionSecurity adds the session-level lines before the first m=.
func (w *sdpRewriter) writeSessionSecurity() {
	ss := w.secSession
	if ss == nil {
		return
	}
	if ss.iceLite {
		w.out = append(w.out, "a=ice-lite\r\n"...)
	}
	if len(ss.bundle) > 0 {
		w.out = append(w.out, "a=group:BUNDLE"...)
		for _, mid := range ss.bundle {
			w.out = append(w.out, ' ')
			w.out = append(w.out, mid...)
		}
		w.out = append(w.out, "\r\n"...)
	}
}

// writeSectionSecurity ends a terminated section with natsbc's lines.
func (w *sdpRewriter) writeSectionSecurity() {
	out := w.secured()
	if out == nil {
		return
	}
	attr := func(name, value string) {
		w.out = append(w.out, "a="...)
		w.out = append(w.out, name...)
		if value != "" {
			w.out = append(w.out, ':')
			w.out = append(w.out, value...)
		}
		w.out = append(w.out, "\r\n"...)
	}
	switch out.wire {
	case wireSDES:
		attr("crypto", out.crypto)
	case wireDTLS:
		if out.mid != "" {
			attr("mid", out.mid)
		}
		attr("ice-ufrag", out.ufrag)
		attr("ice-pwd", out.pwd)
		attr("fingerprint", out.fingerprint)
		attr("setup", out.setup)
		if !out.dropMux {
			attr("rtcp-mux", "") // RFC 8829 §5.2.1: a browser requires it
		}
		// RFC 8839 §5.1: one host candidate, the relay port, component 1
		// (RTP and RTCP share it); priority as RFC 8445 §5.1.2.1 computes it
		// for a host candidate.
		w.out = append(w.out, "a=candidate:1 1 udp 2130706431 "...)
		w.out = w.facing.AppendTo(w.out)
		w.out = append(w.out, ' ')
		w.out = strconv.AppendInt(w.out, int64(w.relay[w.index].RTP), 10)
		w.out = append(w.out, " typ host\r\n"...)
		attr("end-of-candidates", "")
	}
}
