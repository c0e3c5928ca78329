package media

import "strings"

// Security is what an m= section says of how its author secures and
// reaches its media beyond a=crypto: DTLS-SRTP (RFC 5763, RFC 8842), ICE
// (RFC 8839) and BUNDLE (RFC 9143). A value given at session level holds
// for every section that gives none of its own.
type Security struct {
	// Fingerprints are the a=fingerprint values (RFC 8122 §5): the
	// certificates the author's DTLS may present.
	Fingerprints []string
	// Setup is the a=setup value (RFC 4145 §4): actpass, active, passive
	// or holdconn; "" when absent.
	Setup string
	// ICEUfrag and ICEPwd are the author's ICE credentials (RFC 8839 §5.4).
	ICEUfrag, ICEPwd string
	// MID is the a=mid identification tag (RFC 5888 §4).
	MID string
	// Bundled: MID is in the session's a=group:BUNDLE (RFC 9143 §7.1).
	Bundled bool
}

// DTLS reports whether the author offers or answers DTLS-SRTP.
func (s Stream) DTLS() bool {
	return len(s.Security.Fingerprints) > 0 && hasSAVP(s.Proto)
}

// sessionSecurity keeps the session-level lines of Security while the
// sections are read, and the BUNDLE group.
type sessionSecurity struct {
	defaults Security
	bundle   []string
}

// securityAttribute notes a security attribute into sec; false when name
// is none of them.
func securityAttribute(sec *Security, name, value string) bool {
	switch name {
	case "fingerprint":
		sec.Fingerprints = append(sec.Fingerprints, strings.TrimSpace(value))
	case "setup":
		sec.Setup = strings.ToLower(strings.TrimSpace(value))
	case "ice-ufrag":
		sec.ICEUfrag = strings.TrimSpace(value)
	case "ice-pwd":
		sec.ICEPwd = strings.TrimSpace(value)
	case "mid":
		sec.MID = strings.TrimSpace(value)
	default:
		return false
	}
	return true
}

// sessionAttribute notes a session-level security attribute or group.
func (ss *sessionSecurity) sessionAttribute(name, value string) {
	if name == "group" {
		// RFC 5888 §5: a=group:<semantics> *(SP identification-tag)
		f := strings.Fields(value)
		if len(f) > 1 && strings.EqualFold(f[0], "BUNDLE") {
			ss.bundle = append(ss.bundle, f[1:]...)
		}
		return
	}
	securityAttribute(&ss.defaults, name, value)
}

// inherit completes a section's Security from the session level.
func (ss *sessionSecurity) inherit(sec *Security) {
	d := ss.defaults
	if len(sec.Fingerprints) == 0 {
		sec.Fingerprints = d.Fingerprints
	}
	if sec.Setup == "" {
		sec.Setup = d.Setup
	}
	if sec.ICEUfrag == "" {
		sec.ICEUfrag, sec.ICEPwd = d.ICEUfrag, d.ICEPwd
	}
	if sec.MID != "" {
		for _, m := range ss.bundle {
			if m == sec.MID {
				sec.Bundled = true
			}
		}
	}
}
