package sbc

import (
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// A browser (JsSIP, SIP.js) over WebSocket registers with a Contact no one
// can reach (RFC 7118 §5.2): the PBX gets natsbc's token Contact, the
// PBX's call to the token comes down the WebSocket, the call ends there,
// double CRLF and pings are answered; once the WebSocket is gone a call to
// the token fails at once with 480.
func TestWebSocketBrowserRegistersAndIsCalled(t *testing.T) {
	t.Parallel()
	for _, network := range []string{"ws", "wss"} {
		t.Run(network, func(t *testing.T) {
			t.Parallel()
			b := newStreamBed(t, streamBedOpts{networks: []string{network}, ping: 20 * time.Millisecond})
			p := b.dialWSPhone(t, network, false)
			host := randomHex(6) + ".invalid"
			c := streamCaller{user: "abc" + randomHex(3), contact: "sip:" + "abc@" + host + ";transport=ws", via: "SIP/2.0/WSS " + host}
			token := b.register(t, p, c)
			rec, err := b.log.waitFor("binding registered", wait)
			if err != nil || rec["transport"] != network || rec["nat"] != "NAT" || !strings.Contains(rec["checks"].(string), "contact-unroutable") {
				t.Fatalf("binding registered = %v, %v", rec, err)
			}

			pbxCallID := "pbx-" + randomHex(6)
			b.pbx.SendTo(t, b.inside, sipMsg("INVITE "+token.String()+" SIP/2.0", []string{
				"Via: SIP/2.0/UDP " + b.pbx.addr().String() + ";branch=z9hG4bK-inv" + randomHex(6),
				"Max-Forwards: 70",
				"From: <sip:2000@example.com>;tag=pbx1",
				"To: <sip:" + c.user + "@example.com>",
				"Call-ID: " + pbxCallID,
				"CSeq: 1 INVITE",
				"Contact: <sip:2000@" + b.pbx.addr().String() + ">",
				"Content-Type: application/sdp",
			}, sdpBody(pbxIP, 7000)))
			inv := p.Expect(t, "INVITE down the WebSocket", isRequest(sip.INVITE)).(*sip.Request)
			if inv.Recipient.String() != c.contact {
				t.Errorf("INVITE R-URI = %s; want the browser's Contact %s", inv.Recipient.String(), c.contact)
			}
			if v := inv.Via(); v.Transport != strings.ToUpper(network) {
				t.Errorf("INVITE Via = %s; want %s", v.Value(), strings.ToUpper(network))
			}
			nc := contactOf(t, inv)
			if tr, _ := nc.UriParams.Get("transport"); tr != network || uriAddr(t, nc) != b.sockets[network] {
				t.Errorf("natsbc's Contact towards the browser = %s; want its %s socket with transport=%s", nc.String(), network, network)
			}
			b.pbx.Expect(t, wait, "100 Trying", isResponse(100, sip.INVITE))
			p.Send(t, replyTo(inv, 200, "OK", "br1", []string{"Contact: <" + c.contact + ">", "Content-Type: application/sdp"}, sdpBody("192.168.1.10", 5000)))
			ok := b.pbx.Expect(t, wait, "200 at the PBX", isResponse(200, sip.INVITE))
			aContact := contactOf(t, ok)
			b.pbx.SendTo(t, b.inside, sipMsg("ACK "+aContact.String()+" SIP/2.0", []string{
				"Via: SIP/2.0/UDP " + b.pbx.addr().String() + ";branch=z9hG4bK-ack" + randomHex(6),
				"Max-Forwards: 70", "From: <sip:2000@example.com>;tag=pbx1", "To: " + ok.To().Value(),
				"Call-ID: " + pbxCallID, "CSeq: 1 ACK",
			}, ""))
			p.Expect(t, "natsbc's ACK down the WebSocket", isRequest(sip.ACK))

			// RFC 7118 §6 with RFC 5626 §3.5.1; RFC 6455 §5.5.2.
			p.Send(t, "\r\n\r\n")
			p.answered(t, "a double CRLF")
			if err := p.ping(); err != nil {
				t.Fatal(err)
			}
			p.answered(t, "a ping")
			select {
			case <-p.pinged:
			case <-time.After(wait):
				t.Error("natsbc never pinged the browser")
			}

			b.pbx.SendTo(t, b.inside, sipMsg("BYE "+aContact.String()+" SIP/2.0", []string{
				"Via: SIP/2.0/UDP " + b.pbx.addr().String() + ";branch=z9hG4bK-bye" + randomHex(6),
				"Max-Forwards: 70", "From: <sip:2000@example.com>;tag=pbx1", "To: " + ok.To().Value(),
				"Call-ID: " + pbxCallID, "CSeq: 2 BYE",
			}, ""))
			bye := p.Expect(t, "BYE down the WebSocket", isRequest(sip.BYE))
			p.Send(t, replyTo(bye, 200, "OK", "", nil, ""))
			b.pbx.Expect(t, wait, "200 to the PBX's BYE", isResponse(200, sip.BYE))

			// The browser goes away: its token fails at once.
			_ = p.conn.Close()
			deadline := time.Now().Add(wait)
			for b.srv.Stats().TCP.Open != 0 {
				if time.Now().After(deadline) {
					t.Fatal("natsbc still holds the closed WebSocket")
				}
				time.Sleep(5 * time.Millisecond) // no event tells that sipgo dropped it
			}
			start := time.Now()
			b.pbx.SendTo(t, b.inside, sipMsg("INVITE "+token.String()+" SIP/2.0", []string{
				"Via: SIP/2.0/UDP " + b.pbx.addr().String() + ";branch=z9hG4bK-inv" + randomHex(6),
				"Max-Forwards: 70", "From: <sip:2000@example.com>;tag=pbx2", "To: <sip:" + c.user + "@example.com>",
				"Call-ID: pbx-" + randomHex(6), "CSeq: 1 INVITE",
				"Contact: <sip:2000@" + b.pbx.addr().String() + ">",
			}, ""))
			b.pbx.Expect(t, wait, "480 for the gone browser", isResponse(480, sip.INVITE))
			if d := time.Since(start); d > 64*flowT1 {
				t.Errorf("480 after %v", d)
			}
		})
	}
}

// A WebSocket that carries nothing, not even the pongs to natsbc's pings,
// is closed after idle_timeout; one that answers the pings stays.
func TestWebSocketSilentClosedLiveKept(t *testing.T) {
	t.Parallel()
	const idle = 400 * time.Millisecond
	b := newStreamBed(t, streamBedOpts{networks: []string{"ws"}, idle: idle, ping: 50 * time.Millisecond})
	start := time.Now()
	live := b.dialWSPhone(t, "ws", false)
	silent := b.dialWSPhone(t, "ws", true)
	silent.closed(t, 10*idle)
	if d := time.Since(start); d < idle {
		t.Errorf("silent WebSocket closed after %v; idle_timeout is %v", d, idle)
	}
	live.Send(t, "\r\n\r\n")
	live.answered(t, "a double CRLF after the silent one's idle timeout")
	if n := live.pings.Load(); n < 2 {
		t.Errorf("the live WebSocket got %d pings in %v", n, time.Since(start))
	}
}
