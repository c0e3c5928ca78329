package sbc

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/policy"
	"github.com/natsbc/natsbc/resolve"
)

// tableLocator answers RFC 3263 look-ups from a table.
type tableLocator map[string][]resolve.Target

func (l tableLocator) Locate(ctx context.Context, q resolve.Query) ([]resolve.Target, error) {
	if ts, ok := l[q.Host]; ok {
		return ts, nil
	}
	if _, err := netip.ParseAddr(strings.Trim(q.Host, "[]")); err == nil {
		// An address needs no DNS: the real resolver's answer.
		return resolve.New(nil, resolve.Options{}).Locate(ctx, q)
	}
	return nil, resolve.ErrNotFound
}

// newFailoverBed is a flow bed whose PBX peer is addressed by the name
// pbx.test, which resolves to first and then second (two test peers).
func newFailoverBed(t *testing.T, first, second *testPeer) *flowBed {
	t.Helper()
	return newFailoverBedTo(t, resolve.Target{Transport: "udp", Addr: first.addr(), Host: "a.pbx.test"}, second)
}

// newFailoverBedTo is newFailoverBed with any first target; natsbc also
// listens on TCP inside, so a TCP target faces a socket.
func newFailoverBedTo(t *testing.T, first resolve.Target, second *testPeer) *flowBed {
	t.Helper()
	return newFailoverBedWith(t, first, second, nil)
}

// newFailoverBedWith is newFailoverBedTo whose policy and name table mod
// may change.
func newFailoverBedWith(t *testing.T, first resolve.Target, second *testPeer, mod func(*policy.Config, tableLocator)) *flowBed {
	t.Helper()
	b := &flowBed{log: newLogSink()}
	b.phone = newTestPeer(t, "phone", phoneIP)
	b.pbx = second
	cfg := policy.Config{Peers: []policy.Peer{{
		Name: "pbx", Networks: []netip.Prefix{netip.MustParsePrefix(pbxIP + "/32")},
		Address: "pbx.test", Role: policy.RolePBX,
	}}}
	outside, outPC := listenUDP(t, outsideIP)
	inside, inPC := listenUDP(t, insideIP)
	inTCP, err := net.Listen("tcp", insideIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	loc := tableLocator{"pbx.test": {
		first,
		{Transport: "udp", Addr: second.addr(), Host: "b.pbx.test"},
	}}
	if mod != nil {
		mod(&cfg, loc)
	}
	pol, err := policy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{
		Config: Config{T1: flowT1, T2: flowT2, T4: flowT4, DrainTimeout: 100 * time.Millisecond},
		Listeners: []Listener{
			{Spec: ListenSpec{Name: "outside", Network: "udp", Addr: outside}, Packet: outPC},
			{Spec: ListenSpec{Name: "inside", Network: "udp", Addr: inside}, Packet: inPC},
			{Spec: ListenSpec{Name: "inside-tcp", Network: "tcp", Addr: inTCP.Addr().(*net.TCPAddr).AddrPort()}, Stream: inTCP},
		},
		Policy: pol, Locator: loc,
		Router: loopRouter{pbx: netip.MustParseAddr(pbxIP)},
		Logger: slog.New(slog.NewJSONHandler(b.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("natsbc log:\n%s", b.log.String())
		}
	})
	b.srv, b.outside, b.inside = srv, outside, inside
	b.phone.target, b.pbx.target = outside, inside
	b.waitServing(t)
	return b
}

// RFC 3263 §4.3: the first address of the callee's target does not answer
// (or answers 503); natsbc sends the INVITE to the next one with a new
// branch and the same CSeq, and the call completes there. The caller never
// hears of the first.
func TestFlowFailoverToNextAddress(t *testing.T) {
	for _, tt := range []struct {
		name  string
		first func(t *testing.T, p *testPeer, inv sip.Message)
	}{
		{"first silent", func(*testing.T, *testPeer, sip.Message) {}},
		{"first 503", func(t *testing.T, p *testPeer, inv sip.Message) {
			answer(t, p, inv, 503, "Service Unavailable", "down1", nil, "")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			first := newTestPeer(t, "first", pbxIP)
			second := newTestPeer(t, "second", pbxIP)
			b := newFailoverBed(t, first, second)
			pc := newPhoneCall()
			b.phone.Send(t, b.invite(pc))
			inv1 := first.Expect(t, wait, "INVITE at the first address", isRequest(sip.INVITE)).(*sip.Request)
			tt.first(t, first, inv1)
			inv2 := second.Expect(t, wait, "INVITE at the second address", isRequest(sip.INVITE)).(*sip.Request)
			if inv1.Via().Params.GetOr("branch", "") == inv2.Via().Params.GetOr("branch", "-") {
				t.Errorf("retried INVITE reuses the branch %s", inv2.Via().Value())
			}
			if inv2.CSeq().SeqNo != inv1.CSeq().SeqNo || inv2.CallID().Value() != inv1.CallID().Value() || fromTagOf(inv2) != fromTagOf(inv1) {
				t.Errorf("retried INVITE is not the same request:\n%s\nvs\n%s", inv1, inv2)
			}
			if inv2.Recipient.String() != "sip:1000@pbx.test" {
				t.Errorf("R-URI %s, want sip:1000@pbx.test", inv2.Recipient.String())
			}
			answer(t, second, inv2, 200, "OK", "pbx2",
				[]string{"Contact: <sip:1000@" + second.addr().String() + ">", "Content-Type: application/sdp"}, sdpBody(pbxIP, 6000))
			if m, ok := b.phone.tryExpect(wait, func(m sip.Message) bool {
				res, ok := m.(*sip.Response)
				return ok && res.StatusCode >= 200
			}); !ok || m.(*sip.Response).StatusCode != 200 {
				t.Fatalf("the phone got %v, want the second address's 200", m)
			}
			second.Expect(t, wait, "ACK at the second address", isRequestIn(sip.ACK, inv2.CallID().Value()))
			if _, err := b.log.waitFor("INVITE retried at the next callee address", wait); err != nil {
				t.Error(err)
			}
		})
	}
}

// With no address left the caller gets the last answer (here 503).
func TestFlowFailoverExhausted(t *testing.T) {
	t.Parallel()
	first := newTestPeer(t, "first", pbxIP)
	second := newTestPeer(t, "second", pbxIP)
	b := newFailoverBed(t, first, second)
	b.phone.Send(t, b.invite(newPhoneCall()))
	answer(t, first, first.Expect(t, wait, "INVITE 1", isRequest(sip.INVITE)), 503, "Service Unavailable", "x1", nil, "")
	answer(t, second, second.Expect(t, wait, "INVITE 2", isRequest(sip.INVITE)), 503, "Service Unavailable", "x2", nil, "")
	b.phone.Expect(t, wait, "503 for the caller", isResponse(503, sip.INVITE))
}

// A first address whose TCP port refuses the connection: the INVITE cannot
// even be sent there (RFC 3263 §4.3, a transport failure), and goes to the
// next address over UDP with a Via of that transport.
func TestFlowFailoverAfterRefusedConnection(t *testing.T) {
	t.Parallel()
	closed, err := net.Listen("tcp", pbxIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	refused := closed.Addr().(*net.TCPAddr).AddrPort()
	closed.Close()
	second := newTestPeer(t, "second", pbxIP)
	b := newFailoverBedTo(t, resolve.Target{Transport: "tcp", Addr: refused, Host: "a.pbx.test"}, second)
	b.phone.Send(t, b.invite(newPhoneCall()))
	inv := second.Expect(t, wait, "INVITE at the second address", isRequest(sip.INVITE)).(*sip.Request)
	if inv.Via().Transport != "UDP" || uriAddr(t, contactOf(t, inv)) != b.inside {
		t.Errorf("retried INVITE Via %s, Contact %s: want natsbc's UDP socket %s", inv.Via().Value(), uriString(contactOf(t, inv)), b.inside)
	}
	answer(t, second, inv, 486, "Busy Here", "pbx2", nil, "")
	b.phone.Expect(t, wait, "486 from the second address", isResponse(486, sip.INVITE))
	line, err := b.log.waitFor("INVITE retried at the next callee address", wait)
	if err != nil {
		t.Fatal(err)
	}
	if line["after"] != "not sent" || line["from"] != refused.String() {
		t.Errorf("retry logged %v, want after \"not sent\" from %s", line, refused)
	}
	if n := len(b.log.lines("handler panic")); n != 0 {
		t.Errorf("%d handler panics", n)
	}
}

// RFC 3263 §4.3 after a 3xx: the redirect target redir.test has two
// addresses; its first answers 503, so the INVITE moves to its second, with
// the redirect target's Request-URI. The original target's next address
// (pbx.test's second) never gets an INVITE meant for redir.test.
func TestFlowFailoverAfterRedirectStaysWithTheTarget(t *testing.T) {
	t.Parallel()
	first := newTestPeer(t, "first", pbxIP)
	second := newTestPeer(t, "second", pbxIP)
	redir1 := newTestPeer(t, "redir1", pbxIP)
	redir2 := newTestPeer(t, "redir2", pbxIP)
	b := newFailoverBedWith(t, resolve.Target{Transport: "udp", Addr: first.addr(), Host: "a.pbx.test"}, second,
		func(cfg *policy.Config, loc tableLocator) {
			// The Request-URI's host decides, so a 3xx may name another host.
			cfg.Routes = []policy.Route{{From: policy.Any, To: policy.ToRequestURI}}
			loc["redir.test"] = []resolve.Target{
				{Transport: "udp", Addr: redir1.addr(), Host: "a.redir.test"},
				{Transport: "udp", Addr: redir2.addr(), Host: "b.redir.test"},
			}
		})
	b.phone.Send(t, strings.Replace(b.invite(newPhoneCall()), "INVITE sip:1000@"+b.outside.String(), "INVITE sip:1000@pbx.test", 1))
	inv := first.Expect(t, wait, "INVITE at pbx.test's first address", isRequest(sip.INVITE))
	redirect302(t, first, inv, "<sip:2222@redir.test>")
	at1 := redir1.Expect(t, wait, "INVITE at redir.test's first address", isRequest(sip.INVITE))
	answer(t, redir1, at1, 503, "Service Unavailable", "r1", nil, "")
	at2 := redir2.Expect(t, wait, "INVITE at redir.test's second address", isRequest(sip.INVITE)).(*sip.Request)
	if at2.Recipient.String() != "sip:2222@redir.test" || at2.CSeq().SeqNo != at1.CSeq().SeqNo {
		t.Errorf("retried INVITE R-URI %s CSeq %d, want sip:2222@redir.test %d", at2.Recipient.String(), at2.CSeq().SeqNo, at1.CSeq().SeqNo)
	}
	answer(t, redir2, at2, 486, "Busy Here", "r2", nil, "")
	b.phone.Expect(t, wait, "486 from redir.test's second address", isResponse(486, sip.INVITE))
	if stray := second.TakeAll(isRequest(sip.INVITE)); len(stray) > 0 {
		t.Errorf("pbx.test's second address got the redirected INVITE:\n%s", stray[0])
	}
}
