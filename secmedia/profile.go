package secmedia

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/pion/srtp/v3"
)

// profiles is the one table of SRTP crypto-suites natsbc knows, by the
// names SDES uses in a=crypto (RFC 4568 §6.2 for AES_CM_128_HMAC_SHA1_*,
// RFC 7714 for AEAD_AES_*_GCM), mapped to pion's profiles.
var profiles = map[string]srtp.ProtectionProfile{
	"AES_CM_128_HMAC_SHA1_80": srtp.ProtectionProfileAes128CmHmacSha1_80,
	"AES_CM_128_HMAC_SHA1_32": srtp.ProtectionProfileAes128CmHmacSha1_32,
	"AEAD_AES_128_GCM":        srtp.ProtectionProfileAeadAes128Gcm,
	"AEAD_AES_256_GCM":        srtp.ProtectionProfileAeadAes256Gcm,
}

// Profile returns the SRTP protection profile of an SDES crypto-suite name
// (case-sensitive, as registered); false for a suite natsbc does not know.
func Profile(suite string) (srtp.ProtectionProfile, bool) {
	p, ok := profiles[suite]
	return p, ok
}

// keySaltLen is the length of a profile's master key followed by its
// master salt, the value of an SDES inline key (RFC 4568 §6.1).
func keySaltLen(p srtp.ProtectionProfile) (keyLen, saltLen int, err error) {
	if keyLen, err = p.KeyLen(); err != nil {
		return 0, 0, err
	}
	if saltLen, err = p.SaltLen(); err != nil {
		return 0, 0, err
	}
	return keyLen, saltLen, nil
}

// NewKeySalt returns a fresh master key || master salt for suite from
// crypto/rand: the inline key is the SRTP master key itself (RFC 4568
// §6.1), so it must be unpredictable and new for every session.
func NewKeySalt(suite string) ([]byte, error) {
	p, ok := Profile(suite)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownSuite, suite)
	}
	keyLen, saltLen, err := keySaltLen(p)
	if err != nil {
		return nil, err
	}
	b := make([]byte, keyLen+saltLen)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return b, nil
}

// InlineKey encodes a master key || salt for the "inline:" key-param of
// a=crypto (RFC 4568 §6.1: base64 with padding, RFC 4648 §4).
func InlineKey(keySalt []byte) string {
	return base64.StdEncoding.EncodeToString(keySalt)
}
