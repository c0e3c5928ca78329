package media

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Crypto is one a=crypto line of an SDES-SRTP stream (RFC 4568 §9.1):
// the key its author encrypts its own media with.
//
//	a=crypto:<tag> <crypto-suite> inline:<key||salt base64>[|lifetime][|MKI:length] [session-params]
type Crypto struct {
	Tag   int
	Suite string // AES_CM_128_HMAC_SHA1_80, AEAD_AES_128_GCM, ...
	// KeySalt is the decoded master key followed by the master salt.
	KeySalt []byte
	// MKI: the key-param carries an MKI, which natsbc does not check
	// packets against (latching by SRTP authentication skips such keys).
	MKI bool
}

// parseCrypto reads the value of an a=crypto attribute; false when it is
// not one natsbc can use. A line natsbc cannot read does not make the SDP
// unparsable: it is relayed as it is and simply not used for latching.
func parseCrypto(value string) (Crypto, bool) {
	f := strings.Fields(value)
	if len(f) < 3 {
		return Crypto{}, false
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 {
		return Crypto{}, false
	}
	// RFC 4568 §9.1: key-params = key-param *(";" key-param); the first
	// key is the one in use at the start of the session.
	first, _, _ := strings.Cut(f[2], ";")
	method, info, ok := strings.Cut(first, ":")
	if !ok || !strings.EqualFold(method, "inline") {
		return Crypto{}, false
	}
	parts := strings.Split(info, "|")
	key, err := base64.StdEncoding.DecodeString(parts[0])
	if err != nil {
		// Some implementations leave out the padding.
		if key, err = base64.RawStdEncoding.DecodeString(parts[0]); err != nil {
			return Crypto{}, false
		}
	}
	// RFC 4568 §6.3.1, §6.3.3: a key derivation rate other than 0 (which
	// natsbc's check does not do) or packets without an authentication
	// tag leave nothing to check a packet against.
	for _, param := range f[3:] {
		name, val, _ := strings.Cut(param, "=")
		switch {
		case strings.EqualFold(name, "UNAUTHENTICATED_SRTP"):
			return Crypto{}, false
		case strings.EqualFold(name, "KDR") && val != "0":
			return Crypto{}, false
		}
	}
	c := Crypto{Tag: tag, Suite: f[1], KeySalt: key}
	for _, p := range parts[1:] {
		if strings.Contains(p, ":") {
			c.MKI = true
		}
	}
	return c, true
}
