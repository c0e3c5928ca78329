package secmedia

import (
	"fmt"

	"github.com/pion/dtls/v3"
	"github.com/pion/srtp/v3"
)

// dtlsSRTPLabel is the exporter label of RFC 5764 §4.2.
const dtlsSRTPLabel = "EXTRACTOR-dtls_srtp"

// srtpProfileOf maps the use_srtp profile the handshake agreed on (RFC
// 5764 §4.1.2, RFC 7714 for GCM) to pion/srtp's; false for one natsbc
// does not offer.
func srtpProfileOf(p dtls.SRTPProtectionProfile) (srtp.ProtectionProfile, bool) {
	switch p {
	case dtls.SRTP_AEAD_AES_128_GCM:
		return srtp.ProtectionProfileAeadAes128Gcm, true
	case dtls.SRTP_AES128_CM_HMAC_SHA1_80:
		return srtp.ProtectionProfileAes128CmHmacSha1_80, true
	}
	return 0, false
}

// exportTransform derives the leg's SRTP keys from a finished handshake.
// RFC 5764 §4.2: the exporter's output is laid out as
//
//	client_write_SRTP_master_key[keyLen]
//	server_write_SRTP_master_key[keyLen]
//	client_write_SRTP_master_salt[saltLen]
//	server_write_SRTP_master_salt[saltLen]
//
// and each side encrypts with its own role's key and salt.
func exportTransform(conn *dtls.Conn, client bool) (*Transform, error) {
	chosen, ok := conn.SelectedSRTPProtectionProfile()
	if !ok {
		return nil, ErrNoSRTPProfile
	}
	profile, ok := srtpProfileOf(chosen)
	if !ok {
		return nil, fmt.Errorf("%w: %#04x", ErrNoSRTPProfile, uint16(chosen))
	}
	state, ok := conn.ConnectionState()
	if !ok {
		return nil, fmt.Errorf("secmedia: DTLS state unavailable after the handshake")
	}
	keyLen, saltLen, err := keySaltLen(profile)
	if err != nil {
		return nil, err
	}
	m, err := state.ExportKeyingMaterial(dtlsSRTPLabel, nil, 2*(keyLen+saltLen))
	if err != nil {
		return nil, err
	}
	clientKeySalt := concat(m[:keyLen], m[2*keyLen:2*keyLen+saltLen])
	serverKeySalt := concat(m[keyLen:2*keyLen], m[2*keyLen+saltLen:])
	if client {
		return NewTransform(profile, clientKeySalt, serverKeySalt)
	}
	return NewTransform(profile, serverKeySalt, clientKeySalt)
}

func concat(a, b []byte) []byte {
	return append(append(make([]byte, 0, len(a)+len(b)), a...), b...)
}
