package sbc

import (
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/ingress"
	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/policy"
)

// benchInvite is a phone's INVITE as it reaches natsbc: private Via and
// Contact (so the guard forces rport), an SDP offer, the usual headers.
var benchInvite = benchInviteHead + "Content-Length: " + strconv.Itoa(len(benchSDP)) + "\r\n\r\n" + benchSDP

const benchInviteHead = "INVITE sip:1000@203.0.113.5:5060 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK-524287-1---a1b2c3d4e5f6\r\n" +
	"Max-Forwards: 70\r\n" +
	"Contact: <sip:alice@192.168.1.10:5060;ob>\r\n" +
	"To: <sip:1000@pbx.example.com>\r\n" +
	"From: \"Alice\" <sip:alice@pbx.example.com>;tag=8f2c1e7a\r\n" +
	"Call-ID: 4f1a9c2e7b3d4a5f9e8d7c6b5a4f3e2d\r\n" +
	"CSeq: 1 INVITE\r\n" +
	"Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE\r\n" +
	"Supported: replaces, norefersub, extended-refer, timer, 100rel, outbound, path, X-cisco-serviceuri\r\n" +
	"User-Agent: Z 5.6.4 v2.10.20.2\r\n" +
	"Allow-Events: presence, kpml, talk, as-feature-event\r\n" +
	"Content-Type: application/sdp\r\n"

const benchSDP = "v=0\r\n" +
	"o=Z 0 1034 IN IP4 192.168.1.10\r\n" +
	"s=Z\r\n" +
	"c=IN IP4 192.168.1.10\r\n" +
	"t=0 0\r\n" +
	"m=audio 8000 RTP/AVP 106 9 98 101 0 8 3\r\n" +
	"a=rtpmap:106 opus/48000/2\r\n" +
	"a=rtpmap:98 telephone-event/48000\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\n" +
	"a=sendrecv\r\n" +
	"a=rtcp-mux\r\n"

// benchAnswer is a PBX's 200 to natsbc's B-leg INVITE: half of what natsbc
// reads during a call setup are responses like it.
var benchAnswer = "SIP/2.0 200 OK\r\n" +
	"Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK.8d1f2e3a4b5c;rport=5060;received=10.0.0.5\r\n" +
	"Record-Route: <sip:10.0.0.10;lr>\r\n" +
	"From: \"Alice\" <sip:alice@pbx.example.com>;tag=3a9f0c1d\r\n" +
	"To: <sip:1000@pbx.example.com>;tag=as5f1e2d3c\r\n" +
	"Call-ID: 0123456789abcdef0123456789abcdef\r\n" +
	"CSeq: 1 INVITE\r\n" +
	"Contact: <sip:1000@10.0.0.10:5060>\r\n" +
	"Server: PBX\r\n" +
	"Content-Type: application/sdp\r\n" +
	"Content-Length: " + strconv.Itoa(len(benchSDP)) + "\r\n\r\n" + benchSDP

// The ingress checks every UDP datagram passes before sipgo sees it: parse,
// CheckRequest, and (for a NATed phone) the rport rewrite.
func BenchmarkIngressGuard(b *testing.B) {
	from := &net.UDPAddr{IP: net.IPv4(203, 0, 113, 1), Port: 40312}
	for _, tt := range []struct {
		name string
		pkt  string
	}{
		{"invite-nated", benchInvite},
		{"invite-rport-present", strings.Replace(benchInvite, "a1b2c3d4e5f6\r\n", "a1b2c3d4e5f6;rport\r\n", 1)},
		{"bad-answered-483", strings.Replace(benchInvite, "Max-Forwards: 70", "Max-Forwards: 0", 1)},
		{"response-200", benchAnswer},
	} {
		b.Run(tt.name, func(b *testing.B) {
			conn := &replayConn{pkts: [][]byte{[]byte(tt.pkt)}, from: from}
			if tt.name == "bad-answered-483" {
				// ReadFrom loops until a datagram passes: alternate a bad
				// one and a good one, so each op is one of each.
				conn.pkts = append(conn.pkts, []byte(benchInvite))
			}
			g := ingress.NewGuardedPacketConn(conn, ingress.GuardConfig{Logger: slog.New(slog.DiscardHandler)})
			buf := make([]byte, ingress.MaxDatagram)
			// ReadFrom reads until a datagram passes: a message the guard
			// refuses would spin forever, so the first op may read only
			// two datagrams.
			conn.budget = 2
			if _, _, err := g.ReadFrom(buf); err != nil {
				b.Fatalf("the benchmark datagram does not pass the guard: %v", err)
			}
			conn.budget = -1
			b.SetBytes(int64(len(tt.pkt)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := g.ReadFrom(buf); err != nil {
					b.Fatal(err)
				}
			}
			st := g.Stats()
			if st.Passed == 0 || len(conn.pkts) > 1 && st.Answered400 == 0 {
				b.Fatalf("guard counters %+v: the datagrams did not go the intended way", st)
			}
		})
	}
}

// replayConn hands its datagrams out in turn, forever (budget < 0) or
// budget times: the guard's cost without the socket's.
type replayConn struct {
	net.PacketConn
	pkts   [][]byte
	next   int
	budget int
	from   net.Addr
}

func (c *replayConn) ReadFrom(b []byte) (int, net.Addr, error) {
	if c.budget == 0 {
		return 0, nil, net.ErrClosed
	}
	c.budget--
	p := c.pkts[c.next%len(c.pkts)]
	c.next++
	return copy(b, p), c.from, nil
}

func (c *replayConn) WriteTo(b []byte, _ net.Addr) (int, error) { return len(b), nil }

// CheckRequest alone, on a parsed INVITE (the TCP path runs just this).
func BenchmarkCheckRequest(b *testing.B) {
	msg, err := sip.ParseMessage([]byte(benchInvite))
	if err != nil {
		b.Fatal(err)
	}
	req := msg.(*sip.Request)
	b.ReportAllocs()
	for b.Loop() {
		if rej := ingress.CheckRequest(req); rej != nil {
			b.Fatal(rej)
		}
	}
}

// The B-leg INVITE from the A-leg one, as setUpCall builds it: both legs'
// dialog state, natsbc's Via/Contact/From/To/Call-ID/CSeq, the end-to-end
// headers copied, Max-Forwards decremented, the body set (passthrough
// media), natsbc's session timer offer. "wire" adds the serialisation sipgo does before sending.
func BenchmarkLegToLegInvite(b *testing.B) {
	msg, err := sip.ParseMessage([]byte(benchInvite))
	if err != nil {
		b.Fatal(err)
	}
	req := msg.(*sip.Request)
	pc := fakeAddrConn("10.0.0.5:5060")
	sock, err := newSocket(Listener{Spec: ListenSpec{Name: "inside", Network: "udp", Addr: netip.MustParseAddrPort("10.0.0.5:5060")}, Packet: pc})
	if err != nil {
		b.Fatal(err)
	}
	pbx := netip.MustParseAddrPort("10.0.0.10:5060")
	ruri := sip.Uri{Scheme: "sip", User: "1000", Host: "10.0.0.10", Port: 5060}
	ms, _ := media.Passthrough{}.NewSession("", nil)
	cfg := DefaultConfig()
	build := func() *sip.Request {
		from, to := req.From(), req.To()
		leg := &leg{
			side: media.LegB, sock: sock, adv: sock.local, transport: "UDP",
			callID: newCallID(), localTag: newLocalTag(),
			local: *from.Address.Clone(), localName: from.DisplayName,
			remote: *to.Address.Clone(), remName: to.DisplayName,
			source: pbx, remoteTarget: ruri, nextHop: pbx.String(),
		}
		out := leg.newInDialogRequest(sip.INVITE, 0)
		copyEndToEnd(out, req, policy.Peer{})
		decrementMaxForwards(out, req)
		body, err := ms.Rewrite(media.LegA, contentType(req), req.Body(), sock.local.Addr())
		if err != nil {
			b.Fatal(err)
		}
		setBody(out, contentType(req), body)
		cfg.offerTimerHeaders(out, legTimer{}, false)
		return out
	}
	if out := build().String(); !strings.Contains(out, "Via: SIP/2.0/UDP 10.0.0.5:5060") || strings.Contains(out, "192.168.1.10:5060;branch") {
		b.Fatalf("B-leg INVITE is not natsbc's own:\n%s", out)
	}
	b.Run("build", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = build()
		}
	})
	b.Run("wire", func(b *testing.B) {
		var sb strings.Builder
		b.ReportAllocs()
		for b.Loop() {
			sb.Reset()
			build().StringWrite(&sb)
		}
	})
}

// What Timer C and the CANCEL state add to every relayed INVITE: one
// pendingInvite with its timer, a provisional, and the close.
func BenchmarkPendingInvite(b *testing.B) {
	c := callWithConfig(Config{TimerC: 3 * time.Minute, T1: 500 * time.Millisecond})
	b.ReportAllocs()
	for b.Loop() {
		p := c.newPendingInvite(nil, nil)
		p.provisional(180)
		p.close()
	}
}
