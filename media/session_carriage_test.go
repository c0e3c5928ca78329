package media

import (
	"bytes"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// The PBX switches the call to fax: a T.38 re-INVITE replacing the audio
// stream with UDPTL (ITU-T T.38 Annex D), answered by the phone.
const (
	pbxT38Offer = "v=0\r\n" +
		"o=- 1720 1722 IN IP4 10.0.0.10\r\n" +
		"s=Asterisk\r\n" +
		"c=IN IP4 10.0.0.10\r\n" +
		"t=0 0\r\n" +
		"m=image 10000 udptl t38\r\n" +
		"a=T38FaxVersion:0\r\n" +
		"a=T38MaxBitRate:14400\r\n" +
		"a=T38FaxRateManagement:transferredTCF\r\n" +
		"a=T38FaxUdpEC:t38UDPRedundancy\r\n"
	phoneT38Answer = "v=0\r\n" +
		"o=alice 3911 2318 IN IP4 192.168.1.20\r\n" +
		"s=Talk\r\n" +
		"c=IN IP4 192.168.1.20\r\n" +
		"t=0 0\r\n" +
		"m=image 8000 udptl t38\r\n" +
		"a=T38FaxVersion:0\r\n" +
		"a=T38MaxBitRate:14400\r\n" +
		"a=T38FaxRateManagement:transferredTCF\r\n" +
		"a=T38FaxUdpEC:t38UDPRedundancy\r\n"
)

// udptlPacket is a UDPTL datagram whose sequence number is seq: its first
// byte is seq's high byte, so the first 256 are 0x00 (STUN's range by
// first byte, RFC 7983).
func udptlPacket(seq uint16) []byte {
	return []byte{byte(seq >> 8), byte(seq), 0x06, 0xd0, 0x01, 0x80, 0x00, 0x00}
}

func TestSessionRelaysUDPTLAfterT38ReInvite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newSessionRig(t, Config{})
		aPort, bPort := r.call(t, r.s)
		phone := r.n.peer(t, aMapped)
		pbx := r.n.peer(t, bSDP.String())
		var aSeq uint16
		sendRTP(t, phone, r.n, aPort, &aSeq) // latches the NATed phone
		pbx.recv(t)

		// The re-INVITE keeps the m= index, hence the relay ports.
		if _, port := rewrite(t, r.s, LegB, pbxT38Offer, facingA, 0); port != aPort {
			t.Fatalf("T.38 offer names relay port %d, want the call's %d", port, aPort)
		}
		if _, port := rewrite(t, r.s, LegA, phoneT38Answer, facingB, 0); port != bPort {
			t.Fatalf("T.38 answer names relay port %d, want the call's %d", port, bPort)
		}
		before := r.s.Stats()
		// Ten minutes of fax both ways, nothing else: the call stays up.
		for seq := range uint16(600) {
			in := udptlPacket(seq)
			phone.sendTo(t, in, relayAddr(r.n, aPort))
			if d := pbx.recv(t); !bytes.Equal(d.data, in) || d.from != relayAddr(r.n, bPort) {
				t.Fatalf("PBX got % x from %v, want UDPTL % x from the relay", d.data, d.from, in)
			}
			pbx.sendTo(t, in, relayAddr(r.n, bPort))
			if d := phone.recv(t); !bytes.Equal(d.data, in) {
				t.Fatalf("phone got % x, want UDPTL % x", d.data, in)
			}
			time.Sleep(time.Second)
		}
		r.noTimeout(t)
		st := r.s.Stats()
		if got := st.AtoB.Packets - before.AtoB.Packets; got != 600 {
			t.Errorf("phone→PBX counted %d UDPTL packets, want 600", got)
		}
		if got := st.BtoA.Packets - before.BtoA.Packets; got != 600 {
			t.Errorf("PBX→phone counted %d UDPTL packets, want 600", got)
		}
		if st.Streams[0].Media != "image" {
			t.Errorf("stream 0 is %q, want image", st.Streams[0].Media)
		}
		phone.empty(t)
		pbx.empty(t)
		// The fax ends without a re-INVITE back: silence ends the call.
		time.Sleep(59 * time.Second)
		r.timedOut(t, "media timeout: no media from either leg for 60s")
	})
}

// ZRTP (RFC 6189) shares the RTP port; its packets start with 0x10, which
// is no RTP, yet they must reach the other phone for the key agreement.
func TestSessionRelaysZRTP(t *testing.T) {
	r := newSessionRig(t, Config{})
	aPort, bPort := r.call(t, r.s)
	phone := r.n.peer(t, aMapped)
	pbx := r.n.peer(t, bSDP.String())
	hello := []byte{0x10, 0x00, 0x00, 0x01, 'Z', 'R', 'T', 'P', 0, 0, 0, 7, 0x50, 0x5a, 0, 0x1d, 'H', 'e', 'l', 'l', 'o'}
	phone.sendTo(t, hello, relayAddr(r.n, aPort))
	if d := pbx.recv(t); !bytes.Equal(d.data, hello) || d.from != relayAddr(r.n, bPort) {
		t.Fatalf("PBX got % x from %v, want the ZRTP Hello", d.data, d.from)
	}
	pbx.sendTo(t, hello, relayAddr(r.n, bPort))
	if d := phone.recv(t); !bytes.Equal(d.data, hello) {
		t.Fatalf("phone got % x, want the ZRTP Hello", d.data)
	}
	if st := r.s.Stats(); st.AtoB.Packets != 1 || st.BtoA.Packets != 1 || st.AtoB.Dropped != 0 {
		t.Fatalf("ZRTP not counted as relayed: %+v", st)
	}
}

// A video stream both sides offer sendrecv may carry nothing (the camera
// is off) while the audio flows: that is no dead call.
func TestSessionSilentVideoDoesNotEndCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newSessionRig(t, Config{})
		video := "m=video 8002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=sendrecv\r\n"
		rewrite(t, r.s, LegA, phoneOffer+video, facingB, 1)
		_, aPort := rewrite(t, r.s, LegB, pbxAnswer+strings.Replace(video, "8002", "10002", 1), facingA, 0)
		r.s.Answered()
		bPort := r.s.(*relaySession).streams[0].sides[LegB].port
		phone := r.n.peer(t, aMapped)
		pbx := r.n.peer(t, bSDP.String())
		var aSeq, bSeq uint16
		for range 600 { // ten minutes of audio, no video
			sendRTP(t, phone, r.n, aPort, &aSeq)
			sendRTP(t, pbx, r.n, bPort, &bSeq)
			time.Sleep(time.Second)
		}
		r.noTimeout(t)
		// The audio stops too: 60 s after its last packet (1 s ago) the
		// call is over.
		time.Sleep(58 * time.Second)
		r.noTimeout(t)
		time.Sleep(time.Second)
		r.timedOut(t, "media timeout: no media from either leg for 60s")
	})
}

// The relay has UDP sockets only: a TCP stream (RFC 4145) is declined on
// the other leg instead of pointed at a relay port that cannot carry it,
// and it is not waited for.
func TestSessionDeclinesTCPStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newSessionRig(t, Config{})
		msrp := "m=message 2855 TCP/MSRP *\r\na=accept-types:text/plain\r\na=path:msrp://192.168.1.20:2855/s;tcp\r\n"
		out, _ := rewrite(t, r.s, LegA, phoneOffer+msrp, facingB, 0)
		streams, err := ParseStreams([]byte(out))
		if err != nil {
			t.Fatal(err)
		}
		if streams[1].Port != 0 || streams[1].Proto != "TCP/MSRP" {
			t.Fatalf("TCP stream sent on as %+v, want port 0\n%s", streams[1], out)
		}
		rewrite(t, r.s, LegB, pbxAnswer+"m=message 0 TCP/MSRP *\r\n", facingA, 0)
		if rs := r.s.(*relaySession).streamOf(1); rs != nil {
			t.Fatal("relay ports taken for a TCP stream")
		}
	})
}
