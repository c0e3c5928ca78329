//go:build linux

package natlab

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// secureTalk is how long the secure-media calls carry audio before the
// phone looks at its counters and hangs up.
const secureTalk = 6 * time.Second

// TestBaresipSecureMediaOverTLS (secure media, a real phone): baresip
// behind the port-randomising NAT registers over SIP/TLS to natsbc's
// "phones-tls" socket (the test's certificate) and through it to the
// Kamailio PBX (digest), then calls "echo", the PBX-side sipp that echoes
// PCMU. natsbc speaks SDES-SRTP (srtp: sdes; baresip mediaenc=srtp-mand)
// or DTLS-SRTP (srtp: dtls; mediaenc=dtls_srtp) with the phone and plain
// RTP with the PBX side. Asserted: registered; the call established;
// baresip's stream secure and receiving (its /audio_debug); on the
// phone's wire UDP media both ways with natsbc's outside address, each
// packet longer than its plain counterpart by an SRTP authentication tag
// and no SIP in the clear; on the PBX side's wire plain RTP (PCMU) both
// ways between natsbc's inside address and the echo; the phone's hang-up
// ends the call at natsbc with no call or media session left.
//
// The control case "plain-udp" is the same call over UDP without media
// encryption, on natsbc as it was before TLS and SRTP: it proves the
// scenario's phone, PBX, echo and counting, so when a secure case fails,
// TLS or SRTP failed. Its media must be the same size on both wires.
// "sdes-udp" and "dtls-udp" keep SIP on UDP and encrypt the media: with
// them, a failure of "sdes" or "dtls" is the TLS transport's, not the
// media bridge's.
func TestBaresipSecureMediaOverTLS(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		listen   secureListen
		mediaEnc string
	}{
		{"plain-udp", secureListen{Name: "phones", Transport: "udp", Port: 5060}, ""},
		{"sdes-udp", secureListen{Name: "phones", Transport: "udp", Port: 5060, SRTP: "sdes"}, "srtp-mand"},
		{"dtls-udp", secureListen{Name: "phones", Transport: "udp", Port: 5060, SRTP: "dtls"}, "dtls_srtp"},
		{"sdes", secureListen{Name: "phones-tls", Transport: "tls", Port: 5061, SRTP: "sdes"}, "srtp-mand"},
		{"dtls", secureListen{Name: "phones-tls", Transport: "tls", Port: 5061, SRTP: "dtls"}, "dtls_srtp"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			secure, overTLS := c.mediaEnc != "", c.listen.Transport == "tls"
			l := NewLab(t)
			cert := l.MakeCert(t, "natsbc", EdgeOutIP)
			reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{Password: phonePassword})
			echo := l.StartEchoCallee(t, reg)
			pbxWire := l.StartCapture(t, NSPBX, "pbx-wire")
			phoneWire := l.StartCapture(t, LAN1.Role, "phone-wire")
			n := l.startSecureNatsbc(t, c.listen, cert)
			// baresip 1.0 does not resample: an 8 kHz file for PCMU, the
			// codec the echo answers.
			phone := l.StartBaresip(t, LAN1, BaresipOptions{User: "alice", Password: phonePassword,
				TLS: overTLS, CAFile: cert.CAFile, MediaEnc: c.mediaEnc,
				Codecs: "PCMU/8000/1", Source: "/usr/share/sounds/linphone/hello8000.wav"})

			phone.AwaitRegistered(t, 15*time.Second)
			assertPublicContacts(t, reg.AwaitContacts(t, "alice", 5*time.Second))
			phone.Command(t, "/dial sip:"+echoUser+"@"+EdgeOutIP)
			est := phone.AwaitEstablished(t, time.Time{}, 15*time.Second, fmt.Sprintf("call to echo established (%s, mediaenc %q)", c.listen.Transport, c.mediaEnc))
			phone.AwaitAfter(t, est.At, 10*time.Second, "the echo's audio arriving (\"incoming rtp for 'audio' established\")",
				"incoming rtp for 'audio' established")
			holdCall(t, secureTalk, est.At, phone.CloseWatch())

			audio := phone.AudioDebug(t)
			t.Logf("baresip's audio stream: sent %d, received %d RTP packets; menc %q secure %v", audio.Sent, audio.Received, audio.MediaEnc, audio.Secure)
			min := int(secureTalk.Seconds() * 50 * 0.75)
			wantEnc := c.mediaEnc
			if !secure {
				wantEnc = "(none)"
			}
			if audio.Secure != secure || audio.MediaEnc != wantEnc {
				t.Errorf("baresip's audio stream has menc %q secure=%v, want %s secure=%v:\n%s", audio.MediaEnc, audio.Secure, wantEnc, secure, audio.Raw)
			}
			if audio.Sent < min || audio.Received < min {
				t.Errorf("baresip's audio stream sent %d and received %d RTP packets in %v, want %d each:\n%s", audio.Sent, audio.Received, secureTalk, min, audio.Raw)
			}
			if bad := phone.Since(time.Time{}, "failed to decrypt"); len(bad) > 0 {
				t.Errorf("baresip could not decrypt %d packets natsbc sent, first: %s", len(bad), bad[0].Raw)
			}

			heard := time.Now()
			pbxPkts := pbxWire.AwaitPacket(t, 10*time.Second, "plain RTP from the echo after the talk",
				func(p WirePacket) bool { return p.RTPType >= 0 && hostOf(p.Src) == CalleeIP && p.At.After(heard) })
			phonePkts := phoneWire.AwaitPacket(t, 10*time.Second, "media from natsbc at the phone after the talk",
				func(p WirePacket) bool { return !p.IsSIP() && hostOf(p.Src) == EdgeOutIP && p.At.After(heard) })
			assertEchoedRTP(t, pbxPkts, EdgeInIP, est.At, heard, min)
			echoSent, echoReceived := udpAt(pbxPkts, CalleeIP, est.At, heard)
			sent, received := udpAt(phonePkts, LAN1.IP, est.At, heard)
			tags := srtpTags
			if !secure {
				tags = []int{0}
			}
			assertPhoneLeg(t, "the phone sent", sent, echoReceived, min, tags)
			assertPhoneLeg(t, "the phone received", received, echoSent, min, tags)
			if sip := SIPAt(phonePkts); overTLS && len(sip) > 0 {
				t.Errorf("SIP in the clear on the phone's wire (it registered over TLS): %v", sip[0])
			}

			phone.Command(t, "/hangup")
			phone.Await(t, 10*time.Second, "the call terminated", "terminated")
			MustSucceed(t, echo, 15*time.Second)
			assertNoCallsLeft(t, l, n)
			reg.AssertNeverReceived(t, "192.168.")
			n.AssertNoCrash(t)
		})
	}
}

// udpFlow is one direction of a host's UDP on a wire: packets and how
// many of each payload size.
type udpFlow struct {
	Packets int
	Sizes   map[int]int
	Peers   map[string]int
}

// mode is the most frequent payload size (the audio packets').
func (f udpFlow) mode() int {
	best, bestN := 0, 0
	for size, n := range f.Sizes {
		if n > bestN || n == bestN && size < best {
			best, bestN = size, n
		}
	}
	return best
}

func (f udpFlow) String() string {
	return fmt.Sprintf("%d packets, most of %d bytes, peers %v", f.Packets, f.mode(), f.Peers)
}

// udpAt splits the UDP packets other than SIP that the host at ip sent
// and received within [from, to].
func udpAt(pkts []WirePacket, ip string, from, to time.Time) (sent, received udpFlow) {
	add := func(f *udpFlow, p WirePacket, peer string) {
		if f.Sizes == nil {
			f.Sizes, f.Peers = map[int]int{}, map[string]int{}
		}
		f.Packets++
		f.Sizes[p.Payload]++
		f.Peers[peer]++
	}
	for _, p := range pkts {
		if p.IsSIP() || p.At.Before(from) || p.At.After(to) {
			continue
		}
		switch {
		case hostOf(p.Src) == ip:
			add(&sent, p, p.Dst)
		case hostOf(p.Dst) == ip:
			add(&received, p, p.Src)
		}
	}
	return sent, received
}

// srtpTags are the sizes of the SRTP authentication tags (RFC 3711 §4.2:
// HMAC-SHA1 80 and 32 bits; RFC 7714 §7.2: AES-GCM's 16 bytes).
var srtpTags = []int{10, 4, 16}

// assertPhoneLeg checks one direction of the phone's media on its wire
// against its plain counterpart on the PBX side's wire: at least min
// packets, all with natsbc's outside address, its audio packets longer
// than the plain ones by one of tags (an SRTP authentication tag; 0 for
// plain RTP on both sides).
func assertPhoneLeg(t *testing.T, what string, phone, plain udpFlow, min int, tags []int) {
	t.Helper()
	t.Logf("media %s, on its wire: %v; plain on the PBX side: %v", what, phone, plain)
	if phone.Packets < min {
		t.Errorf("media %s: %d UDP packets on the phone's wire, want at least %d (%v)", what, phone.Packets, min, phone)
	}
	for peer := range phone.Peers {
		if hostOf(peer) != EdgeOutIP {
			t.Errorf("media %s: packets with %s, want only natsbc's outside %s", what, peer, EdgeOutIP)
		}
	}
	if tag := phone.mode() - plain.mode(); !slices.Contains(tags, tag) {
		t.Errorf("media %s: most packets of %d bytes on the phone's wire, of %d as plain RTP on the PBX side: %d more, want %s more",
			what, phone.mode(), plain.mode(), tag, strings.Trim(fmt.Sprint(tags), "[]"))
	}
}
