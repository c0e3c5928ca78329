package media

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/pion/srtp/v3"
)

// srtpKey is a test master key and salt (16 + 14 bytes) as a=crypto
// carries them.
var (
	srtpKey    = bytes.Repeat([]byte{0x5a}, 30)
	otherKey   = bytes.Repeat([]byte{0x33}, 30)
	srtpInline = base64.StdEncoding.EncodeToString(srtpKey)
)

// srtpSender encrypts as the holder of key would.
func srtpSender(t *testing.T, key []byte) *srtp.Context {
	t.Helper()
	ctx, err := srtp.CreateContext(key[:16], key[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

func encryptRTP(t *testing.T, ctx *srtp.Context, plain []byte) []byte {
	t.Helper()
	out, err := ctx.EncryptRTP(nil, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// An RTCP receiver report (RFC 3550 §6.4.2) without report blocks.
func rtcpReceiverReport(ssrc byte) []byte {
	return []byte{0x80, 201, 0x00, 0x01, 0, 0, 0, ssrc}
}

// a=crypto lines are read into Stream.Crypto (RFC 4568 §9.1); lines
// natsbc cannot use (unreadable, no authentication tag, a key derivation
// rate) are left out without making the SDP unparsable.
func TestSDPCryptoParsed(t *testing.T) {
	sdp := sdpBody("m=audio 4000 RTP/SAVP 0",
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+srtpInline+"|2^20",
		"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"+srtpInline+"|2^20|1:4",
		"a=crypto:x broken",
		"a=crypto:3 F8_128_HMAC_SHA1_80 inline:!!!notbase64",
		"a=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:"+srtpInline+" UNAUTHENTICATED_SRTP",
		"a=crypto:5 AES_CM_128_HMAC_SHA1_80 inline:"+srtpInline+" KDR=24",
		"a=crypto:6 AES_CM_128_HMAC_SHA1_80 inline:"+srtpInline+" KDR=0 UNENCRYPTED_SRTP")
	streams, err := ParseStreams(sdp)
	if err != nil {
		t.Fatal(err)
	}
	got := streams[0].Crypto
	if len(got) != 3 || got[2].Tag != 6 || got[0].Tag != 1 || got[0].Suite != "AES_CM_128_HMAC_SHA1_80" || !bytes.Equal(got[0].KeySalt, srtpKey) || got[0].MKI {
		t.Fatalf("Crypto = %+v", got)
	}
	if !got[1].MKI {
		t.Error("the second key's MKI was not seen")
	}
	if a := newSRTPAuth(got); a == nil || len(a.keys) != 2 {
		t.Errorf("usable keys: want the first and the last (MKI keys are skipped; no tag or KDR is not usable)")
	}
}

// latching: srtp-auth (issue 12, item 9): a new source latches only with
// a packet that authenticates with the peer's SDES key, wherever it comes
// from; without the key, neither a stranger nor a packet from the peer's
// own signalling address can take the stream, RTP or RTCP.
func TestRelaySRTPAuthLatching(t *testing.T) {
	r := newStreamRig(t)
	p := *r.a.policy.Load()
	p.auth = newSRTPAuth([]Crypto{{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", KeySalt: srtpKey}})
	r.a.policy.Store(&p)
	pbx := r.n.peer(t, bSDP.String())
	pbxRTCP := r.n.peer(t, bRTCP.String())
	attacker := r.n.peer(t, "192.0.2.66:5004")
	fromSignalIP := r.n.peer(t, aSignal.Addr().String()+":41000")
	phone := r.n.peer(t, "198.51.100.99:41000") // media from another address than its SIP

	attacker.sendTo(t, rtpPacket(0, 1, 0, 0x66), relayAddr(r.n, 20000))
	attacker.sendTo(t, encryptRTP(t, srtpSender(t, otherKey), rtpPacket(0, 2, 160, 0x66)), relayAddr(r.n, 20000))
	fromSignalIP.sendTo(t, rtpPacket(0, 3, 320, 0x67), relayAddr(r.n, 20000))
	sender := srtpSender(t, srtpKey)
	phone.sendTo(t, encryptRTP(t, sender, rtpPacket(0, 4, 480, 0xa)), relayAddr(r.n, 20000))
	if d := pbx.recv(t); d.data[11] != 0xa || d.data[3] != 4 {
		t.Fatalf("PBX got SSRC %x seq %d, want the key holder's packet 4", d.data[11], d.data[3])
	}
	if dropped := r.a.flow().Dropped; dropped != 3 {
		t.Errorf("dropped %d, want the 3 packets without the key", dropped)
	}

	// SRTCP on the RTCP port: the stranger's is dropped, the key holder's
	// latches.
	attacker.sendTo(t, rtcpReceiverReport(0x66), relayAddr(r.n, 20001))
	srtcp, err := sender.EncryptRTCP(nil, rtcpReceiverReport(0xa), nil)
	if err != nil {
		t.Fatal(err)
	}
	phone.sendTo(t, srtcp, relayAddr(r.n, 20001))
	if d := pbxRTCP.recv(t); !bytes.Equal(d.data, srtcp) {
		t.Fatalf("PBX got RTCP % x, want the key holder's SRTCP", d.data[:8])
	}
	attacker.empty(t)
	pbxRTCP.empty(t)
}

// A session whose phone leg latches by srtp-auth takes the key from the
// phone's own SDP: a packet encrypted with it latches from any address,
// one without it does not, even from the phone's signalling address.
func TestSessionSRTPAuthFromSDP(t *testing.T) {
	r := newSessionRig(t, Config{})
	r.s.SetPeer(LegA, PeerInfo{SignalSource: aSignal, NATed: true, Latch: LatchSRTPAuth})
	offer := strings.Replace(phoneOffer, "RTP/AVP 0 8 101\r\n", "RTP/SAVP 0 8 101\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+srtpInline+"\r\n", 1)
	if offer == phoneOffer {
		t.Fatal("the offer got no a=crypto")
	}
	rewrite(t, r.s, LegA, offer, facingB, 0)
	_, aPort := rewrite(t, r.s, LegB, pbxAnswer, facingA, 0)
	r.s.Answered()
	pbx := r.n.peer(t, bSDP.String())
	plain := r.n.peer(t, aMapped)
	keyHolder := r.n.peer(t, "198.51.100.99:41000")
	plain.sendTo(t, rtpPacket(0, 1, 0, 0x67), relayAddr(r.n, aPort))
	keyHolder.sendTo(t, encryptRTP(t, srtpSender(t, srtpKey), rtpPacket(0, 2, 160, 0xa)), relayAddr(r.n, aPort))
	if d := pbx.recv(t); d.data[3] != 2 {
		t.Fatalf("PBX got seq %d, want the key holder's 2", d.data[3])
	}
	pbx.empty(t)
}

// FuzzSRTPAuth: any a=crypto value and any packet are read without a
// panic, and a packet never authenticates with a key it was not made with.
func FuzzSRTPAuth(f *testing.F) {
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:"+srtpInline+"|2^20", rtpPacket(0, 1, 0, 1), false)
	f.Add("2 AEAD_AES_128_GCM inline:"+base64.StdEncoding.EncodeToString(make([]byte, 28)), rtcpReceiverReport(1), true)
	f.Add("x y", []byte{0x80}, true)
	f.Fuzz(func(t *testing.T, value string, pkt []byte, rtcp bool) {
		c, ok := parseCrypto(value)
		if !ok {
			return
		}
		if a := newSRTPAuth([]Crypto{c}); a != nil && a.verifies(pkt, rtcp, rolloverHint{}) && !bytes.Equal(c.KeySalt, srtpKey) {
			// Only a packet encrypted with this very key could pass; the
			// fuzzer cannot forge a tag.
			t.Fatalf("a random packet authenticated with key %x", c.KeySalt)
		}
	})
}

// A phone that moves after its sequence numbers wrapped re-latches: the
// relay tells the check how often the stream wrapped, which the packet
// does not carry but its tag covers (RFC 3711 §3.3.1).
func TestSRTPAuthAfterRollover(t *testing.T) {
	a := newSRTPAuth([]Crypto{{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", KeySalt: srtpKey}})
	sender := srtpSender(t, srtpKey)
	var rx rxStats
	var last []byte
	seq := uint16(65000)
	for i := range 3 * 65536 { // three wraps, as the relay forwards them
		pkt := encryptRTP(t, sender, rtpPacket(0, seq, uint32(i)*160, 0xa))
		rx.observe(pkt, int64(i)*20e6, &noClockRates)
		seq++
		last = pkt
	}
	if got, known := rx.rollovers(last); got != 3 || !known {
		t.Fatalf("rollovers = %d, %v; want 3", got, known)
	}
	moved := encryptRTP(t, sender, rtpPacket(0, seq, 0, 0xa))
	roc, known := rx.rollovers(moved)
	if !a.verifies(moved, false, rolloverHint{roc, known}) {
		t.Fatal("the key holder's packet after three wraps did not authenticate")
	}
	if fresh := newSRTPAuth([]Crypto{{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", KeySalt: srtpKey}}); fresh.verifies(encryptRTP(t, sender, rtpPacket(0, seq+1, 0, 0xa)), false, rolloverHint{}) {
		t.Fatal("without the rollovers the packet authenticated: the test proves nothing")
	}
}

// A stranger's packets with ever new SSRCs leave no state in the check:
// pion keeps a stream's state only once a packet authenticates, and the
// rollover hint is applied only to the SSRC the relay follows.
func TestSRTPAuthForgedSSRCsLeaveNoState(t *testing.T) {
	a := newSRTPAuth([]Crypto{{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", KeySalt: srtpKey}})
	stranger := srtpSender(t, otherKey)
	for ssrc := range uint32(100) {
		if a.verifies(encryptRTP(t, stranger, rtpPacket(0, 1, 0, ssrc)), false, rolloverHint{}) {
			t.Fatal("a packet without the key authenticated")
		}
		if _, ok := a.keys[0].ROC(ssrc); ok {
			t.Fatalf("SSRC %d of a stranger left state in the check", ssrc)
		}
	}
}
