package secmedia

import (
	"crypto"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"

	_ "crypto/sha1" // registers the hashes fingerprints may use
	_ "crypto/sha256"
	_ "crypto/sha512"
)

// Fingerprint is a peer's certificate fingerprint as read from an
// a=fingerprint attribute (RFC 8122 §5): the hash function's name and the
// digest of the certificate's DER encoding.
type Fingerprint struct {
	Hash   string // lower case: "sha-256", "sha-1", ...
	Digest []byte
}

// fingerprintHashes are the hash functions natsbc accepts in a fingerprint:
// SHA-1 and the SHA-2 family of RFC 8122 §5's hash-func. MD5 and MD2 are
// not taken: a digest a stranger can collide is no trust at all.
var fingerprintHashes = map[string]crypto.Hash{
	"sha-1":   crypto.SHA1,
	"sha-224": crypto.SHA224,
	"sha-256": crypto.SHA256,
	"sha-384": crypto.SHA384,
	"sha-512": crypto.SHA512,
}

// ParseFingerprint reads the value of an a=fingerprint attribute:
//
//	fingerprint-attribute = "fingerprint" ":" hash-func SP fingerprint
//	fingerprint           = 2UHEX *(":" 2UHEX)
//
// The hash name is matched without regard to case (hash-func is a token,
// RFC 8122 §5 refers to RFC 3279 names) and so is the hex, which some
// endpoints send in lower case; the digest must have the hash's size.
func ParseFingerprint(value string) (Fingerprint, error) {
	name, digest, ok := strings.Cut(strings.TrimSpace(value), " ")
	if !ok {
		return Fingerprint{}, fmt.Errorf("%w: no space between hash and digest", ErrFingerprint)
	}
	name = strings.ToLower(name)
	h, ok := fingerprintHashes[name]
	if !ok {
		return Fingerprint{}, fmt.Errorf("%w: hash %q not accepted", ErrFingerprint, name)
	}
	digest = strings.TrimSpace(digest)
	// Each byte is two hex digits and all but the last a colon.
	if len(digest) != 3*h.Size()-1 {
		return Fingerprint{}, fmt.Errorf("%w: %s digest of %d characters, want %d", ErrFingerprint, name, len(digest), 3*h.Size()-1)
	}
	d := make([]byte, h.Size())
	for i := range d {
		pair := digest[3*i : 3*i+2]
		if i < len(d)-1 && digest[3*i+2] != ':' {
			return Fingerprint{}, fmt.Errorf("%w: byte %d not followed by ':'", ErrFingerprint, i+1)
		}
		if _, err := hex.Decode(d[i:i+1], []byte(pair)); err != nil {
			return Fingerprint{}, fmt.Errorf("%w: %q is not a hex byte", ErrFingerprint, pair)
		}
	}
	return Fingerprint{Hash: name, Digest: d}, nil
}

// Matches reports whether certDER, a certificate as the peer sent it in
// the DTLS handshake, is the one this fingerprint announced (RFC 5763 §5:
// the check that replaces certificate path validation).
func (f Fingerprint) Matches(certDER []byte) bool {
	h, ok := fingerprintHashes[f.Hash]
	if !ok || len(f.Digest) != h.Size() {
		return false
	}
	sum := h.New()
	sum.Write(certDER)
	return subtle.ConstantTimeCompare(sum.Sum(nil), f.Digest) == 1
}

// upperHex: RFC 8122 §5 writes the digest in upper-case hex (UHEX).
const upperHex = "0123456789ABCDEF"

// String is the value of an a=fingerprint attribute for f.
func (f Fingerprint) String() string {
	var b strings.Builder
	b.Grow(len(f.Hash) + 1 + 3*len(f.Digest))
	b.WriteString(f.Hash)
	b.WriteByte(' ')
	for i, c := range f.Digest {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&0x0f])
	}
	return b.String()
}
