package media

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/srtp/v3"
	"github.com/pion/stun/v3"
)

// secureCall is a call on real loopback sockets whose leg a (the phone)
// natsbc secures in mode; leg b (the PBX) gets plain RTP.
type secureCall struct {
	anchor     *RelayAnchor
	s          Session
	phone, pbx *net.UDPConn
	// relayA is where the phone sends, relayB where the PBX sends.
	relayA, relayB netip.AddrPort
	// toPhone is the SDP natsbc answered the phone with.
	toPhone []Stream
	// phoneMedia, when set, is where the phone's media arrives instead
	// of its socket (a DTLS client reads the socket itself).
	phoneMedia chan []byte
}

// phoneRead waits for one datagram to the phone.
func (c *secureCall) phoneRead(tb testing.TB, buf []byte) []byte {
	tb.Helper()
	if c.phoneMedia == nil {
		return read(tb, c.phone, buf)
	}
	select {
	case pkt := <-c.phoneMedia:
		return pkt
	case <-time.After(5 * time.Second):
		tb.Fatal("nothing relayed to the phone")
		return nil
	}
}

// newSecureCall offers phoneSDP (its m= port and address are filled in)
// from leg a and answers with the PBX's plain SDP.
func newSecureCall(tb testing.TB, mode SecurityMode, phoneSDP func(addr netip.AddrPort) string) *secureCall {
	tb.Helper()
	c, phoneAddr, pbxAddr := newSecureSession(tb, mode)
	facing := phoneAddr.Addr()
	out, err := c.s.Rewrite(LegA, "application/sdp", []byte(phoneSDP(phoneAddr)), facing)
	if err != nil {
		tb.Fatal(err)
	}
	toPBX, err := ParseStreams(out)
	if err != nil {
		tb.Fatal(err)
	}
	if wireOf(toPBX[0]) != wirePlain {
		tb.Fatalf("the PBX was offered %s, not plain RTP", toPBX[0].Proto)
	}
	c.relayB = netip.AddrPortFrom(facing, uint16(toPBX[0].Port))
	out, err = c.s.Rewrite(LegB, "application/sdp", []byte(sdpFor(pbxAddr)), facing)
	if err != nil {
		tb.Fatal(err)
	}
	if c.toPhone, err = ParseStreams(out); err != nil {
		tb.Fatal(err)
	}
	c.relayA = netip.AddrPortFrom(facing, uint16(c.toPhone[0].Port))
	return c
}

// newSecureSession is a session on real loopback sockets, its phone (leg
// a, NATed) in mode, its PBX (leg b) plain, before any SDP.
func newSecureSession(tb testing.TB, mode SecurityMode) (c *secureCall, phoneAddr, pbxAddr netip.AddrPort) {
	tb.Helper()
	a, err := NewRelayAnchor(Config{PortMin: 44000, PortMax: 44999, ListenIP: netip.IPv4Unspecified(), Logger: discardLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	c = &secureCall{anchor: a, phone: listenLoopback(tb, "127.0.0.1"), pbx: listenLoopback(tb, "127.0.0.1")}
	phoneAddr = c.phone.LocalAddr().(*net.UDPAddr).AddrPort()
	pbxAddr = c.pbx.LocalAddr().(*net.UDPAddr).AddrPort()
	if c.s, err = a.NewSession("secure", nil); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.s.Close() })
	c.s.SetPeer(LegA, PeerInfo{SignalSource: phoneAddr, NATed: true, Security: mode})
	c.s.SetPeer(LegB, PeerInfo{SignalSource: pbxAddr, Security: SecurityNone})
	return c, phoneAddr, pbxAddr
}

// read waits for one datagram on conn.
func read(tb testing.TB, conn *net.UDPConn, buf []byte) []byte {
	tb.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		tb.Fatalf("nothing relayed: %v", err)
	}
	return buf[:n]
}

// srtpPeer is the phone's SRTP end, built with pion alone.
type srtpPeer struct{ enc, dec *srtp.Context }

func (p *srtpPeer) encrypt(tb testing.TB, plain []byte) []byte {
	out, err := p.enc.EncryptRTP(nil, plain, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func (p *srtpPeer) decrypt(tb testing.TB, sealed []byte) []byte {
	out, err := p.dec.DecryptRTP(nil, sealed, nil)
	if err != nil {
		tb.Fatalf("the phone cannot decrypt what natsbc sent: %v", err)
	}
	return out
}

// checkBridged sends RTP both ways: the phone's SRTP reaches the PBX as
// the plain packet, the PBX's plain RTP reaches the phone encrypted with
// natsbc's key.
func checkBridged(t *testing.T, c *secureCall, phone *srtpPeer, dropped uint64) {
	t.Helper()
	buf := make([]byte, 1500)
	before := c.s.Stats()
	for seq := range uint16(5) {
		seq += uint16(before.AtoB.Packets)
		plain := rtpPacket(0, seq, uint32(seq)*160, 0xabc)
		copy(plain[rtpHeaderLen:], fmt.Sprintf("phone says %d", seq))
		if _, err := c.phone.WriteToUDPAddrPort(phone.encrypt(t, plain), c.relayA); err != nil {
			t.Fatal(err)
		}
		if got := read(t, c.pbx, buf); !bytes.Equal(got, plain) {
			t.Fatalf("the PBX got %x, want the plain packet %x", got[:16], plain[:16])
		}
		back := rtpPacket(0, seq, uint32(seq)*160, 0xdef)
		copy(back[rtpHeaderLen:], fmt.Sprintf("pbx says %d", seq))
		if _, err := c.pbx.WriteToUDPAddrPort(back, c.relayB); err != nil {
			t.Fatal(err)
		}
		sealed := c.phoneRead(t, buf)
		if bytes.Equal(sealed, back) {
			t.Fatal("the phone got plain RTP")
		}
		if got := phone.decrypt(t, sealed); !bytes.Equal(got, back) {
			t.Fatalf("the phone decrypted %x, want %x", got[:16], back[:16])
		}
	}
	st := c.s.Stats()
	if st.AtoB.Packets-before.AtoB.Packets != 5 || st.BtoA.Packets-before.BtoA.Packets != 5 || st.AtoB.Dropped != dropped {
		t.Fatalf("stats %+v", st)
	}
}

const sdesPhoneKey = "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa"

func sdesPhoneSDP(addr netip.AddrPort) string {
	return fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %[1]s\r\ns=-\r\nc=IN IP4 %[1]s\r\nt=0 0\r\n"+
		"m=audio %[2]d RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%[3]s\r\na=sendrecv\r\n",
		addr.Addr(), addr.Port(), sdesPhoneKey)
}

// newSDESPeer keys the phone: it encrypts with its own key and decrypts
// with the one natsbc answered.
func newSDESPeer(tb testing.TB, answer Stream) *srtpPeer {
	tb.Helper()
	if len(answer.Crypto) != 1 || answer.Crypto[0].Tag != 1 {
		tb.Fatalf("natsbc answered %+v, want one a=crypto under tag 1", answer.Crypto)
	}
	own, _ := base64.StdEncoding.DecodeString(sdesPhoneKey)
	enc, err := srtp.CreateContext(own[:16], own[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		tb.Fatal(err)
	}
	theirs := answer.Crypto[0].KeySalt
	dec, err := srtp.CreateContext(theirs[:16], theirs[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		tb.Fatal(err)
	}
	return &srtpPeer{enc: enc, dec: dec}
}

// TestSDESBridgeRealUDP: an SDES-SRTP phone and a plain-RTP PBX hear each
// other through natsbc, which decrypts and encrypts with its own key.
func TestSDESBridgeRealUDP(t *testing.T) {
	c := newSecureCall(t, SecuritySDES, sdesPhoneSDP)
	checkBridged(t, c, newSDESPeer(t, c.toPhone[0]), 0)
}

// TestSDESBridgeSurvivesReinvite: a re-INVITE from the PBX reaches the
// phone with natsbc's same key, so the phone's SRTP goes on unbroken.
func TestSDESBridgeSurvivesReinvite(t *testing.T) {
	c := newSecureCall(t, SecuritySDES, sdesPhoneSDP)
	phone := newSDESPeer(t, c.toPhone[0])
	checkBridged(t, c, phone, 0)
	pbxAddr := c.pbx.LocalAddr().(*net.UDPAddr).AddrPort()
	phoneAddr := c.phone.LocalAddr().(*net.UDPAddr).AddrPort()
	out, err := c.s.Rewrite(LegB, "application/sdp", []byte(strings.Replace(sdpFor(pbxAddr), "o=- 1 1", "o=- 1 2", 1)), phoneAddr.Addr())
	if err != nil {
		t.Fatal(err)
	}
	reoffer, err := ParseStreams(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(reoffer[0].Crypto) != 1 || !bytes.Equal(reoffer[0].Crypto[0].KeySalt, c.toPhone[0].Crypto[0].KeySalt) || reoffer[0].Crypto[0].Tag != 1 {
		t.Fatalf("the re-offer changed natsbc's key or tag: %+v", reoffer[0].Crypto)
	}
	if _, err := c.s.Rewrite(LegA, "application/sdp", []byte(sdesPhoneSDP(phoneAddr)), phoneAddr.Addr()); err != nil {
		t.Fatal(err)
	}
	checkBridged(t, c, phone, 0)
}

// TestSDESBridgeDropsForgedPackets: a packet that does not authenticate
// with the phone's key is dropped, and does not move where its media goes.
func TestSDESBridgeDropsForgedPackets(t *testing.T) {
	c := newSecureCall(t, SecuritySDES, sdesPhoneSDP)
	phone := newSDESPeer(t, c.toPhone[0])
	stranger := listenLoopback(t, "127.0.0.1")
	forged := rtpPacket(0, 1, 160, 0xabc)
	forged = append(forged, make([]byte, 10)...) // a tag, but not the key's
	if _, err := stranger.WriteToUDPAddrPort(forged, c.relayA); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return c.s.Stats().AtoB.Dropped == 1 })
	checkBridged(t, c, phone, 1)
}

// waitFor polls cond: the relay's counters have no event to wait on.
func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatal("condition not met in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// browser is the phone side of a DTLS-SRTP leg as a browser runs it: ICE
// (controlling, full) with pion/stun and DTLS with pion/dtls.
type browser struct {
	cert        tls.Certificate
	fingerprint string
	ufrag, pwd  string
}

func newBrowser(tb testing.TB) *browser {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256(der)
	hexes := make([]string, len(sum))
	for i, b := range sum {
		hexes[i] = fmt.Sprintf("%02X", b)
	}
	return &browser{
		cert:        tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		fingerprint: "sha-256 " + strings.Join(hexes, ":"),
		ufrag:       "brws", pwd: "browserpassword123456789",
	}
}

// sdp is the browser's offer: no usable candidate address (mDNS only),
// so c=0.0.0.0 and port 9.
func (b *browser) sdp(netip.AddrPort) string {
	return "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n" +
		"a=ice-ufrag:" + b.ufrag + "\r\na=ice-pwd:" + b.pwd + "\r\na=ice-options:trickle\r\n" +
		"a=fingerprint:" + b.fingerprint + "\r\na=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n" +
		"a=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n"
}

// check sends a nominating connectivity check to natsbc's candidate
// and waits for its authenticated answer (RFC 8445 §7.2.5).
func (b *browser) check(tb testing.TB, conn *net.UDPConn, answer Stream, to netip.AddrPort) {
	tb.Helper()
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest,
		stun.NewUsername(answer.Security.ICEUfrag+":"+b.ufrag),
		stun.RawAttribute{Type: stun.AttrPriority, Value: []byte{0x6e, 0x7f, 0x1e, 0xff}},
		stun.RawAttribute{Type: stun.AttrICEControlling, Value: []byte{0, 0, 0, 0, 0, 0, 0, 42}},
		stun.RawAttribute{Type: stun.AttrUseCandidate},
		stun.NewShortTermIntegrity(answer.Security.ICEPwd), stun.Fingerprint)
	if _, err := conn.WriteToUDPAddrPort(req.Raw, to); err != nil {
		tb.Fatal(err)
	}
	buf := make([]byte, 1500)
	res := &stun.Message{Raw: append([]byte(nil), read(tb, conn, buf)...)}
	if err := res.Decode(); err != nil || res.Type != stun.BindingSuccess {
		tb.Fatalf("no Binding success for the check: %v %v", res.Type, err)
	}
	if err := stun.NewShortTermIntegrity(answer.Security.ICEPwd).Check(res); err != nil {
		tb.Fatalf("answer integrity: %v", err)
	}
}

// handshake runs DTLS as the client (natsbc answered setup:passive) and
// keys the browser's SRTP from it.
func (b *browser) handshake(tb testing.TB, conn *net.UDPConn, media chan []byte, answer Stream, to netip.AddrPort) *srtpPeer {
	tb.Helper()
	if answer.Security.Setup != "passive" {
		tb.Fatalf("natsbc answered setup:%s, want passive", answer.Security.Setup)
	}
	dc, err := dtls.ClientWithOptions(dtlsOnly{conn, media}, net.UDPAddrFromAddrPort(to),
		dtls.WithCertificates(b.cert),
		dtls.WithSRTPProtectionProfiles(dtls.SRTP_AES128_CM_HMAC_SHA1_80),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithInsecureSkipVerify(true))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = dc.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := dc.HandshakeContext(ctx); err != nil {
		tb.Fatalf("DTLS handshake with natsbc: %v", err)
	}
	state, _ := dc.ConnectionState()
	certs := state.PeerCertificates
	if len(certs) == 0 {
		tb.Fatal("natsbc sent no certificate")
	}
	sum := sha256.Sum256(certs[0])
	if !strings.EqualFold(strings.ReplaceAll(answer.Security.Fingerprints[0], ":", ""), "sha-256 "+fmt.Sprintf("%X", sum[:])) {
		tb.Fatalf("natsbc's certificate does not match its a=fingerprint %s", answer.Security.Fingerprints[0])
	}
	cfg := srtp.Config{Profile: srtp.ProtectionProfileAes128CmHmacSha1_80}
	if err := cfg.ExtractSessionKeysFromDTLS(&state, true); err != nil {
		tb.Fatal(err)
	}
	enc, err := srtp.CreateContext(cfg.Keys.LocalMasterKey, cfg.Keys.LocalMasterSalt, cfg.Profile)
	if err != nil {
		tb.Fatal(err)
	}
	dec, err := srtp.CreateContext(cfg.Keys.RemoteMasterKey, cfg.Keys.RemoteMasterSalt, cfg.Profile)
	if err != nil {
		tb.Fatal(err)
	}
	return &srtpPeer{enc: enc, dec: dec}
}

// TestDTLSBridgeRealUDP: a browser (ICE controlling, DTLS client) and a
// plain-RTP PBX hear each other through natsbc's ICE-lite, DTLS-SRTP end.
func TestDTLSBridgeRealUDP(t *testing.T) {
	b := newBrowser(t)
	c := newSecureCall(t, SecurityDTLS, b.sdp)
	answer := c.toPhone[0]
	if !answer.DTLS() || answer.Security.ICEUfrag == "" || !answer.RTCPMux || answer.Security.MID != "0" {
		t.Fatalf("natsbc's answer is no DTLS-SRTP ICE-lite end: %+v", answer)
	}
	// Before ICE nothing is latched: the PBX's media has nowhere to go.
	b.check(t, c.phone, answer, c.relayA)
	c.phoneMedia = make(chan []byte, 64)
	phone := b.handshake(t, c.phone, c.phoneMedia, answer, c.relayA)
	// natsbc may read the browser's first SRTP before its own end of the
	// handshake has exported keys: wait until it has.
	rs := c.s.(*relaySession)
	waitFor(t, func() bool {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		return rs.secure[0][LegA].ready() != nil
	})
	checkBridged(t, c, phone, 0)
}

// dtlsOnly hands pion/dtls the DTLS datagrams of the browser's socket
// (RFC 7983 §7: first byte 20-63) and everything else to media.
type dtlsOnly struct {
	*net.UDPConn
	media chan []byte
}

func (d dtlsOnly) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := d.UDPConn.ReadFrom(b)
		if err != nil || (n > 0 && b[0] >= 20 && b[0] <= 63) {
			return n, addr, err
		}
		select {
		case d.media <- append([]byte(nil), b[:n]...):
		default:
		}
	}
}

// TestDTLSBridgeNeedsICE: without an authenticated check natsbc neither
// answers a stranger's STUN nor relays anything to it.
func TestDTLSBridgeNeedsICE(t *testing.T) {
	b := newBrowser(t)
	c := newSecureCall(t, SecurityDTLS, b.sdp)
	stranger := listenLoopback(t, "127.0.0.1")
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest,
		stun.NewUsername(c.toPhone[0].Security.ICEUfrag+":"+b.ufrag),
		stun.NewShortTermIntegrity("not the password at all!"), stun.Fingerprint)
	if _, err := stranger.WriteToUDPAddrPort(req.Raw, c.relayA); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return c.s.Stats().AtoB.Dropped == 1 })
	if _, err := c.pbx.WriteToUDPAddrPort(rtpPacket(0, 1, 160, 1), c.relayB); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return c.s.Stats().BtoA.Unsent == 1 })
	_ = stranger.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, _, err := stranger.ReadFromUDPAddrPort(make([]byte, 1500)); err == nil {
		t.Fatalf("the stranger got %d bytes", n)
	}
}

// BenchmarkRelaySRTPToPlain is one SDES-SRTP packet phone → relay
// (decrypted) → PBX: the per-packet cost of a secured leg's direction in,
// next to BenchmarkRelayForward's plain one.
func BenchmarkRelaySRTPToPlain(b *testing.B) {
	c := newSecureCall(b, SecuritySDES, sdesPhoneSDP)
	phone := newSDESPeer(b, c.toPhone[0])
	buf := make([]byte, 1500)
	plain := rtpPacket(0, 0, 0, 0xabc)
	var sealed []byte
	send := func(seq uint16) {
		binary.BigEndian.PutUint16(plain[2:], seq)
		var err error
		if sealed, err = phone.enc.EncryptRTP(sealed[:0], plain, nil); err != nil {
			b.Fatal(err)
		}
		if _, err := c.phone.WriteToUDPAddrPort(sealed, c.relayA); err != nil {
			b.Fatal(err)
		}
		read(b, c.pbx, buf)
	}
	send(0)
	seq := uint16(0)
	b.ReportAllocs()
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		seq++
		send(seq)
	}
}

// BenchmarkRelayPlainToSRTP is one plain RTP packet PBX → relay
// (encrypted) → phone.
func BenchmarkRelayPlainToSRTP(b *testing.B) {
	c := newSecureCall(b, SecuritySDES, sdesPhoneSDP)
	phone := newSDESPeer(b, c.toPhone[0])
	buf := make([]byte, 1500)
	// The phone's first packet latches its address.
	if _, err := c.phone.WriteToUDPAddrPort(phone.encrypt(b, rtpPacket(0, 0, 0, 0xabc)), c.relayA); err != nil {
		b.Fatal(err)
	}
	read(b, c.pbx, buf)
	plain := rtpPacket(0, 0, 0, 0xdef)
	seq := uint16(0)
	b.ReportAllocs()
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		seq++
		binary.BigEndian.PutUint16(plain[2:], seq)
		if _, err := c.pbx.WriteToUDPAddrPort(plain, c.relayB); err != nil {
			b.Fatal(err)
		}
		read(b, c.phone, buf)
	}
}

// TestDTLSBridgeNatsbcClient: the PBX calls a browser that answers
// natsbc's actpass with setup:passive, so natsbc is the DTLS client; its
// handshake reaches the browser once an ICE check has latched it.
func TestDTLSBridgeNatsbcClient(t *testing.T) {
	b := newBrowser(t)
	c, phoneAddr, pbxAddr := newSecureSession(t, SecurityDTLS)
	c.phoneMedia = make(chan []byte, 64)
	facing := phoneAddr.Addr()
	out, err := c.s.Rewrite(LegB, "application/sdp", []byte(sdpFor(pbxAddr)), facing)
	if err != nil {
		t.Fatal(err)
	}
	offer, err := ParseStreams(out)
	if err != nil {
		t.Fatal(err)
	}
	if !offer[0].DTLS() || offer[0].Security.Setup != "actpass" {
		t.Fatalf("natsbc's offer to the browser: %+v", offer[0])
	}
	c.relayA = netip.AddrPortFrom(facing, uint16(offer[0].Port))
	answerSDP := strings.Replace(strings.Replace(b.sdp(phoneAddr), "a=setup:actpass", "a=setup:passive", 1), "a=group:BUNDLE 0\r\n", "", 1)
	out, err = c.s.Rewrite(LegA, "application/sdp", []byte(answerSDP), facing)
	if err != nil {
		t.Fatal(err)
	}
	toPBX, err := ParseStreams(out)
	if err != nil || wireOf(toPBX[0]) != wirePlain {
		t.Fatalf("the PBX's answer: %v %+v", err, toPBX)
	}
	c.relayB = netip.AddrPortFrom(facing, uint16(toPBX[0].Port))

	b.check(t, c.phone, offer[0], c.relayA)
	dc, err := dtls.ServerWithOptions(dtlsOnly{c.phone, c.phoneMedia}, net.UDPAddrFromAddrPort(c.relayA),
		dtls.WithCertificates(b.cert),
		dtls.WithSRTPProtectionProfiles(dtls.SRTP_AES128_CM_HMAC_SHA1_80),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		dtls.WithClientAuth(dtls.RequireAnyClientCert),
		dtls.WithInsecureSkipVerify(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dc.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := dc.HandshakeContext(ctx); err != nil {
		t.Fatalf("natsbc's DTLS handshake as the client: %v", err)
	}
	state, _ := dc.ConnectionState()
	cfg := srtp.Config{Profile: srtp.ProtectionProfileAes128CmHmacSha1_80}
	if err := cfg.ExtractSessionKeysFromDTLS(&state, false); err != nil {
		t.Fatal(err)
	}
	enc, err := srtp.CreateContext(cfg.Keys.LocalMasterKey, cfg.Keys.LocalMasterSalt, cfg.Profile)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := srtp.CreateContext(cfg.Keys.RemoteMasterKey, cfg.Keys.RemoteMasterSalt, cfg.Profile)
	if err != nil {
		t.Fatal(err)
	}
	rs := c.s.(*relaySession)
	waitFor(t, func() bool {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		return rs.secure[0][LegA].ready() != nil
	})
	checkBridged(t, c, &srtpPeer{enc: enc, dec: dec}, 0)
}
