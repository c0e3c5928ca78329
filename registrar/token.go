package registrar

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"strings"
)

// A token is the user part of the Contact natsbc registers at the PBX on a
// phone's behalf: sip:<token>@<natsbc>. The PBX sends the phone's calls to
// that URI, and the token maps them back to the binding (the phone's flow).
//
// It is the binding's random 64-bit id followed by a truncated HMAC of it,
// so a request for a token natsbc never issued (a guess, a typo, a tampered
// PBX entry) is recognised as such and answered 404 rather than routed to
// whichever phone happens to hold a similar id. Lower-case base32 keeps it
// a valid SIP user part (RFC 3261 §25.1 "unreserved"); the decoder accepts
// upper case too, in case a PBX folds it.
const (
	tokenIDLen  = 8
	tokenMACLen = 8
	TokenPrefix = "nb"
)

var (
	errTokenFormat = errors.New("not a natsbc token")
	errTokenMAC    = errors.New("token signature does not match")
)

var tokenEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// tokenSigner issues and checks tokens with one key.
type tokenSigner struct {
	key []byte
}

// newTokenSigner uses secret as the key, or a random one when it is empty.
func newTokenSigner(secret []byte) tokenSigner {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	return tokenSigner{key: append([]byte(nil), secret...)}
}

func (t tokenSigner) mac(id []byte) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write(id)
	return m.Sum(nil)[:tokenMACLen]
}

// encode returns the token for binding id.
func (t tokenSigner) encode(id uint64) string {
	var raw [tokenIDLen + tokenMACLen]byte
	binary.BigEndian.PutUint64(raw[:tokenIDLen], id)
	copy(raw[tokenIDLen:], t.mac(raw[:tokenIDLen]))
	return TokenPrefix + tokenEncoding.EncodeToString(raw[:])
}

// decode returns the binding id of a token natsbc issued. errTokenFormat:
// the string is not shaped like a token at all (an ordinary user part);
// errTokenMAC: shaped like one but not issued with this key.
func (t tokenSigner) decode(s string) (uint64, error) {
	s = strings.ToLower(s)
	body, ok := strings.CutPrefix(s, TokenPrefix)
	if !ok || len(body) != tokenEncoding.EncodedLen(tokenIDLen+tokenMACLen) {
		return 0, errTokenFormat
	}
	raw, err := tokenEncoding.DecodeString(body)
	// The last character carries two unused bits: only the canonical
	// spelling of a token is that token.
	if err != nil || len(raw) != tokenIDLen+tokenMACLen || tokenEncoding.EncodeToString(raw) != body {
		return 0, errTokenFormat
	}
	if !hmac.Equal(raw[tokenIDLen:], t.mac(raw[:tokenIDLen])) {
		return 0, errTokenMAC
	}
	return binary.BigEndian.Uint64(raw[:tokenIDLen]), nil
}

// newBindingID is random so that ids of bindings from before a restart
// (still in the PBX's location table, with a configured TokenSecret) do not
// collide with new ones.
func newBindingID() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}
