package sbc

import (
	"io"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/policy"
)

// What pickTransport adds to every request natsbc sends: a B-leg INVITE of
// the usual size (under 1300 bytes) on a leg whose peer may take TCP (the
// call lookup and one serialisation), on a NATed leg (the lookup only),
// and outside any call (a failed lookup).
func BenchmarkPickTransport(b *testing.B) {
	pol, err := policy.New(policy.Config{})
	if err != nil {
		b.Fatal(err)
	}
	addr := netip.MustParseAddrPort("10.0.0.5:5060")
	s, err := New(Options{
		Listeners: []Listener{{Spec: ListenSpec{Name: "inside", Network: "udp", Addr: addr}, Packet: fakeAddrConn(addr.String())}},
		Policy:    pol,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	msg, err := sip.ParseMessage([]byte(benchInvite))
	if err != nil {
		b.Fatal(err)
	}
	in := msg.(*sip.Request)
	pbx := netip.MustParseAddrPort("10.0.0.10:5060")
	newLeg := func(side media.Leg) *leg {
		return &leg{side: side, sock: s.sockets[0], adv: addr, transport: "UDP",
			callID: newCallID(), localTag: newLocalTag(), local: in.From().Address, remote: in.To().Address,
			remoteTarget: sip.Uri{Scheme: "sip", User: "1000", Host: "10.0.0.10", Port: 5060}, nextHop: pbx.String()}
	}
	c := newCall(s, newLeg(media.LegA), newLeg(media.LegB), nil)
	c.a.nated = true
	s.calls.add(c)
	build := func(l *leg) *sip.Request {
		out := l.newInDialogRequest(sip.INVITE, 0)
		copyEndToEnd(out, in, policy.Peer{})
		setBody(out, contentType(in), in.Body())
		return out
	}
	stray := build(newLeg(media.LegB))
	for _, tt := range []struct {
		name string
		req  *sip.Request
	}{
		{"may-take-tcp", build(c.b)},
		{"nated-leg", build(c.a)},
		{"outside-call", stray},
	} {
		if n := messageSize(tt.req); n > udpSizeLimit {
			b.Fatalf("%s: %d bytes; the benchmark is for requests under the limit", tt.name, n)
		}
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.pickTransport(tt.req)
			}
			if tt.req.Transport() != "UDP" {
				b.Fatalf("transport %s, want UDP", tt.req.Transport())
			}
		})
	}
}
