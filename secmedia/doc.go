// Package secmedia holds the crypto state machines with which natsbc
// terminates media security on one call leg and speaks plain RTP on the
// other: an SDES-SRTP phone or a WebRTC browser on one side, a plain-RTP
// PBX on the other. The relay (package media) moves the packets; this
// package only transforms them and runs the handshakes, all on pion
// (pion/srtp, pion/dtls, pion/stun): it implements no cryptography itself.
//
//   - Transform is one leg's SRTP/SRTCP context pair (RFC 3711): natsbc
//     encrypts what it sends with its own key and decrypts what the peer
//     sends with the peer's. Profile, NewKeySalt and InlineKey serve SDES
//     (RFC 4568, RFC 7714 for the AEAD suites), where the keys travel in
//     a=crypto over signalling.
//   - DTLS runs the DTLS-SRTP handshake (RFC 5763, RFC 5764) over the
//     datagrams the relay demultiplexes to it (RFC 7983) and ends with a
//     Transform keyed by the handshake's exporter (RFC 5764 §4.2).
//   - ICELite answers a browser's connectivity checks as an ICE-lite agent
//     (RFC 8445 §2.5): natsbc has public host candidates only, never
//     checks, and lets the browser nominate.
//
// Why the fingerprint is the trust: DTLS-SRTP certificates are
// self-signed (RFC 5763 §5). What binds a certificate to the call is its
// fingerprint in the SDP (a=fingerprint, RFC 8122), which came over the
// signalling natsbc already trusts for the call itself. So both roles skip
// certificate path validation and instead require the peer's certificate
// to hash to one of the fingerprints the peer announced; natsbc announces
// its own Certificate's the same way. A man in the middle of the media
// path alone cannot complete the handshake.
//
// The package imports nothing of natsbc's but nat, whose Binding-request
// answering it reuses, so STUN is read and written in one place. media
// imports secmedia, never the reverse.
package secmedia
