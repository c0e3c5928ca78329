package secmedia

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/pion/srtp/v3"
)

func TestProfileTable(t *testing.T) {
	want := map[string]struct {
		profile srtp.ProtectionProfile
		keySalt int // key + salt octets (RFC 4568 §6.2, RFC 7714)
	}{
		"AES_CM_128_HMAC_SHA1_80": {srtp.ProtectionProfileAes128CmHmacSha1_80, 30},
		"AES_CM_128_HMAC_SHA1_32": {srtp.ProtectionProfileAes128CmHmacSha1_32, 30},
		"AEAD_AES_128_GCM":        {srtp.ProtectionProfileAeadAes128Gcm, 28},
		"AEAD_AES_256_GCM":        {srtp.ProtectionProfileAeadAes256Gcm, 44},
	}
	for suite, w := range want {
		p, ok := Profile(suite)
		if !ok || p != w.profile {
			t.Errorf("Profile(%s) = %v, %v", suite, p, ok)
		}
		a, err := NewKeySalt(suite)
		if err != nil || len(a) != w.keySalt {
			t.Fatalf("NewKeySalt(%s): %d bytes, %v; want %d", suite, len(a), err, w.keySalt)
		}
		b, _ := NewKeySalt(suite)
		if bytes.Equal(a, b) {
			t.Errorf("NewKeySalt(%s) returned the same key twice", suite)
		}
		inline := InlineKey(a)
		if dec, err := base64.StdEncoding.DecodeString(inline); err != nil || !bytes.Equal(dec, a) {
			t.Errorf("InlineKey %q does not decode to the key", inline)
		}
	}
	for _, suite := range []string{"", "aes_cm_128_hmac_sha1_80", "F8_128_HMAC_SHA1_80", "AES_256_CM_HMAC_SHA1_80"} {
		if _, ok := Profile(suite); ok {
			t.Errorf("Profile(%q) known", suite)
		}
		if _, err := NewKeySalt(suite); !errors.Is(err, ErrUnknownSuite) {
			t.Errorf("NewKeySalt(%q): %v", suite, err)
		}
	}
	// RFC 4568 §6.1's example key for AES_CM_128_HMAC_SHA1_80 is 40
	// base64 characters with no padding needed; a 28-byte GCM key needs it.
	if got := InlineKey(make([]byte, 28)); len(got) != 40 || got[38:] != "==" {
		t.Errorf("InlineKey of 28 bytes: %q", got)
	}
}
