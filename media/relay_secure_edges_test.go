package media

import (
	"bytes"
	"encoding/base64"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/srtp/v3"
	"github.com/pion/stun/v3"

	"github.com/natsbc/natsbc/secmedia"
)

// A leg natsbc secures with SDES answers STUN only by the address rule,
// like any leg: a stranger's Binding request is not reflected.
func TestSDESLegReflectsNoStrangerSTUN(t *testing.T) {
	c := newSecureCall(t, SecuritySDES, sdesPhoneSDP)
	stranger := listenLoopback(t, "127.0.0.2")
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	if _, err := stranger.WriteToUDPAddrPort(req.Raw, c.relayA); err != nil {
		t.Fatal(err)
	}
	_ = stranger.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, _, err := stranger.ReadFromUDPAddrPort(make([]byte, 1500)); err == nil {
		t.Fatalf("a stranger's STUN got %d bytes back", n)
	}
}

// An SDES phone that re-keys in a re-INVITE is decrypted with its new key
// from then on; natsbc's own key, and its stream, go on.
func TestSDESBridgePhoneRekeys(t *testing.T) {
	c := newSecureCall(t, SecuritySDES, sdesPhoneSDP)
	checkBridged(t, c, newSDESPeer(t, c.toPhone[0]), 0)
	phoneAddr := c.phone.LocalAddr().(*net.UDPAddr).AddrPort()
	const newKey = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkw"
	reoffer := strings.Replace(sdesPhoneSDP(phoneAddr), sdesPhoneKey, newKey, 1)
	if _, err := c.s.Rewrite(LegA, "application/sdp", []byte(reoffer), phoneAddr.Addr()); err != nil {
		t.Fatal(err)
	}
	pbxAddr := c.pbx.LocalAddr().(*net.UDPAddr).AddrPort()
	out, err := c.s.Rewrite(LegB, "application/sdp", []byte(sdpFor(pbxAddr)), phoneAddr.Addr())
	if err != nil {
		t.Fatal(err)
	}
	answer, err := ParseStreams(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(answer[0].Crypto[0].KeySalt, c.toPhone[0].Crypto[0].KeySalt) {
		t.Fatal("natsbc changed its key answering a re-key")
	}
	own, _ := base64.StdEncoding.DecodeString(newKey)
	enc, err := srtp.CreateContext(own[:16], own[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		t.Fatal(err)
	}
	phone := newSDESPeer(t, answer[0])
	phone.enc = enc
	// natsbc's stream to the phone goes on: the phone's decryption
	// context, made for the first part of the call, keeps working.
	phone.dec = newSDESPeer(t, c.toPhone[0]).dec
	checkBridgedFrom(t, c, phone, 0, 100)
}

// The PBX answers natsbc's SDES offer with plain RTP: natsbc relays plain
// RTP to it (and logs it) instead of a silent call.
func TestSecureOfferAnsweredPlain(t *testing.T) {
	c, phoneAddr, pbxAddr := newSecureSession(t, SecurityNone)
	s, phone, pbx := c.s, c.phone, c.pbx
	s.SetPeer(LegB, PeerInfo{SignalSource: pbxAddr, Security: SecuritySDES})
	out, err := s.Rewrite(LegA, "application/sdp", []byte(sdpFor(phoneAddr)), phoneAddr.Addr())
	if err != nil {
		t.Fatal(err)
	}
	offer, _ := ParseStreams(out)
	if wireOf(offer[0]) != wireSDES {
		t.Fatalf("the sdes PBX was offered %s", offer[0].Proto)
	}
	out, err = s.Rewrite(LegB, "application/sdp", []byte(sdpFor(pbxAddr)), phoneAddr.Addr())
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := ParseStreams(out)
	relayA := netip.AddrPortFrom(phoneAddr.Addr(), uint16(answer[0].Port))
	relayB := netip.AddrPortFrom(phoneAddr.Addr(), uint16(offer[0].Port))
	buf := make([]byte, 1500)
	pkt := rtpPacket(0, 1, 160, 1)
	exchange(t, phone, relayA, pbx, pkt, buf)
	if got := buf[:len(pkt)]; !bytes.Equal(got, pkt) {
		t.Fatal("the PBX did not get the plain packet")
	}
	exchange(t, pbx, relayB, phone, pkt, buf)
	if st := s.Stats(); st.AtoB.Packets != 1 || st.BtoA.Packets != 1 || st.AtoB.Unsent+st.BtoA.Unsent != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// A DTLS datagram from a new port does not move a leg natsbc already
// sends to: only what decrypts (or an ICE check) may.
func TestDTLSDatagramMovesNoLatchedLeg(t *testing.T) {
	c := newSecureCall(t, SecurityDTLS, func(addr netip.AddrPort) string {
		return strings.Replace(strings.Replace(sdesPhoneSDP(addr), "RTP/SAVP", "UDP/TLS/RTP/SAVP", 1),
			"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+sdesPhoneKey, "a=fingerprint:"+newBrowser(t).fingerprint+"\r\na=setup:actpass", 1)
	})
	phoneAddr := c.phone.LocalAddr().(*net.UDPAddr).AddrPort()
	side := c.s.(*relaySession).streams[0].sides[LegA]
	side.rtpLatch.point(phoneAddr) // the phone was found
	other := listenLoopback(t, "127.0.0.1")
	junk := append([]byte{22, 0xfe, 0xfd}, make([]byte, 30)...)
	if _, err := other.WriteToUDPAddrPort(junk, c.relayA); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return c.s.Stats().AtoB.Dropped == 1 })
	if to, _ := side.rtpLatch.target(); to != phoneAddr {
		t.Fatalf("a DTLS datagram from %v moved the leg to %v", other.LocalAddr(), to)
	}
}

// Closing a call in mid-handshake ends its DTLS goroutines.
func TestSecureSessionCloseEndsDTLS(t *testing.T) {
	before := runtime.NumGoroutine()
	b := newBrowser(t)
	c := newSecureCall(t, SecurityDTLS, b.sdp)
	if c.s.(*relaySession).secure[0][LegA].dtls.Load() == nil {
		t.Fatal("no DTLS session started")
	}
	c.s.Close()
	c.anchor.Close()
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })
}

// A browser's re-offer (actpass) while natsbc is the DTLS client is
// answered active: the running session keeps its roles (RFC 8842 §5.5).
func TestDTLSReofferKeepsRole(t *testing.T) {
	l := newSecureLeg(discardLogger())
	l.setup = "actpass"
	peer := Stream{Proto: "UDP/TLS/RTP/SAVPF", Security: Security{Fingerprints: []string{newBrowser(t).fingerprint}, Setup: "passive", ICEUfrag: "x"}}
	l.wrote = wireDTLS
	started := 0
	l.settle(peer, true, func(_ *secureLeg, client bool, remote []secmedia.Fingerprint) (*secmedia.DTLS, error) {
		started++
		if !client {
			t.Error("natsbc must be the client after a passive answer")
		}
		cert, err := secmedia.NewCertificate()
		if err != nil {
			return nil, err
		}
		// A session whose peer never answers: it runs until release.
		return secmedia.StartDTLS(secmedia.DTLSConfig{Certificate: cert, Client: client, Remote: remote, Send: func([]byte) {}})
	})
	peer.Security.Setup = "actpass"
	out, err := l.output(Stream{Index: 0}, peer, true, SecurityDTLS, func() (string, error) { return "sha-256 00", nil })
	if err != nil {
		t.Fatal(err)
	}
	if out.setup != "active" || started != 1 {
		t.Fatalf("re-offer answered setup:%s (sessions started %d), want active and one session", out.setup, started)
	}
	l.release()
}

// checkBridgedFrom is checkBridged with the phone's sequence numbers from
// first on.
func checkBridgedFrom(t *testing.T, c *secureCall, phone *srtpPeer, dropped uint64, first uint16) {
	t.Helper()
	buf := make([]byte, 1500)
	for seq := first; seq < first+5; seq++ {
		plain := rtpPacket(0, seq, uint32(seq)*160, 0xabc)
		if _, err := c.phone.WriteToUDPAddrPort(phone.encrypt(t, plain), c.relayA); err != nil {
			t.Fatal(err)
		}
		if got := read(t, c.pbx, buf); !bytes.Equal(got, plain) {
			t.Fatal("the PBX did not get the phone's packet under its new key")
		}
		back := rtpPacket(0, seq, uint32(seq)*160, 0xdef)
		if _, err := c.pbx.WriteToUDPAddrPort(back, c.relayB); err != nil {
			t.Fatal(err)
		}
		if got := phone.decrypt(t, c.phoneRead(t, buf)); !bytes.Equal(got, back) {
			t.Fatal("the phone did not get the PBX's packet")
		}
	}
	if d := c.s.Stats().AtoB.Dropped; d != dropped {
		t.Fatalf("%d dropped, want %d", d, dropped)
	}
}

// The relay's scratch buffers leave srtpOverheadCap for what SRTP adds:
// every suite natsbc speaks must fit.
func TestSRTPOverheadFitsScratch(t *testing.T) {
	for _, suite := range []string{"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AEAD_AES_128_GCM", "AEAD_AES_256_GCM"} {
		profile, ok := secmedia.Profile(suite)
		key, err := secmedia.NewKeySalt(suite)
		if !ok || err != nil {
			t.Fatalf("%s: %v", suite, err)
		}
		tr, err := secmedia.NewTransform(profile, key, key)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Overhead() > srtpOverheadCap {
			t.Errorf("%s adds up to %d bytes, the scratch leaves %d", suite, tr.Overhead(), srtpOverheadCap)
		}
	}
}
