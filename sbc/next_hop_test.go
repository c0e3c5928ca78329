package sbc

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/policy"
)

// A Server with a UDP and a TCP socket on 127.0.0.1, not started: enough
// for next-hop decisions.
func newHopServer(t *testing.T, loc Locator) *Server {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pol, _ := policy.New(policy.Config{})
	s, err := New(Options{
		Config: Config{T1: flowT1, T2: flowT2, T4: flowT4},
		Listeners: []Listener{
			{Spec: ListenSpec{Name: "u", Network: "udp", Addr: pc.LocalAddr().(*net.UDPAddr).AddrPort()}, Packet: pc},
			{Spec: ListenSpec{Name: "t", Network: "tcp", Addr: ln.Addr().(*net.TCPAddr).AddrPort()}, Stream: ln},
		},
		Policy: pol, Locator: loc,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s
}

func TestDialogHopOf(t *testing.T) {
	loc := tableLocator{
		"proxy.example.com": {{Transport: "tcp", Addr: netip.MustParseAddrPort("127.0.0.9:5070")}},
		"udp.example.com":   {{Transport: "udp", Addr: netip.MustParseAddrPort("127.0.0.8:5080")}},
	}
	s := newHopServer(t, loc)
	tests := []struct {
		uri, leg       string
		addr, switchTo string
	}{
		{"sip:127.0.0.7", "UDP", "127.0.0.7:5060", ""},
		{"sip:127.0.0.7:5062;lr", "TCP", "127.0.0.7:5062", ""}, // no transport=: the dialog's stays
		{"sip:127.0.0.7:5062;lr;transport=tcp", "UDP", "127.0.0.7:5062", "TCP"},
		{"sip:127.0.0.7:5062;transport=UDP", "UDP", "127.0.0.7:5062", ""},
		{"sip:proxy.example.com;lr", "UDP", "127.0.0.9:5070", "TCP"}, // NAPTR/SRV chose TCP
		{"sip:udp.example.com:5080;lr", "TCP", "127.0.0.8:5080", ""}, // explicit port: no say on transport
		{"sip:unknown.example.com:5090;lr", "UDP", "unknown.example.com:5090", ""},
		{"sip:ignored.example.com:5064;maddr=127.0.0.6;lr", "UDP", "127.0.0.6:5064", ""}, // RFC 3263 §4: maddr

	}
	for _, tt := range tests {
		var u sip.Uri
		if err := sip.ParseUri(tt.uri, &u); err != nil {
			t.Fatal(err)
		}
		h := s.dialogHopOf(u, tt.leg)
		if h.addr != tt.addr || h.transport != tt.switchTo {
			t.Errorf("%s on a %s leg: hop %s, transport %q; want %s, %q", tt.uri, tt.leg, h.addr, h.transport, tt.addr, tt.switchTo)
		}
		if h.transport != "" && (h.sock == nil || h.sock.network != lower(h.transport)) {
			t.Errorf("%s: transport %s without a %s socket", tt.uri, h.transport, h.transport)
		}
	}
}

// The 2xx that establishes a B-leg names a first route with transport=tcp:
// the leg's in-dialog requests go over TCP from natsbc's TCP socket. A
// later target refresh changes the remote target only.
func TestLearnRouteHonoursRouteTransport(t *testing.T) {
	s := newHopServer(t, tableLocator{})
	var udp *socket
	for _, sock := range s.sockets {
		if sock.network == "udp" {
			udp = sock
		}
	}
	l := &leg{side: media.LegB, sock: udp, adv: udp.local, transport: "UDP", peer: policy.Peer{Name: "p", Role: policy.RoleProxy}}
	msg, err := sip.ParseMessage([]byte("SIP/2.0 200 OK\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n" +
		"Record-Route: <sip:127.0.0.9:5070;lr;transport=tcp>\r\n" +
		"From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n" +
		"Contact: <sip:b@127.0.0.8:5080>\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	s.learnRoute(l, msg, netip.MustParseAddrPort("127.0.0.9:5070"), true)
	if l.transport != "TCP" || l.sock.network != "tcp" || l.nextHop != "127.0.0.9:5070" || l.adv != l.sock.advertised(l.sock.local.Addr()) {
		t.Errorf("leg after the 2xx: transport %s, socket %s, next hop %s, adv %s; want TCP from the TCP socket to 127.0.0.9:5070",
			l.transport, l.sock.network, l.nextHop, l.adv)
	}
	req := l.newInDialogRequest(sip.BYE, 0)
	if req.Transport() != "TCP" || req.Via().Transport != "TCP" || req.Destination() != "127.0.0.9:5070" {
		t.Errorf("BYE goes %s (Via %s) to %s, want TCP to 127.0.0.9:5070", req.Transport(), req.Via().Transport, req.Destination())
	}

	refresh, err := sip.ParseMessage([]byte("SIP/2.0 200 OK\r\n" +
		"Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK2\r\n" +
		"Record-Route: <sip:127.0.0.7:5090;lr;transport=udp>\r\n" +
		"From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: c\r\nCSeq: 2 INVITE\r\n" +
		"Contact: <sip:b@127.0.0.8:5081>\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	s.learnRoute(l, refresh, netip.MustParseAddrPort("127.0.0.9:5070"), true)
	if l.transport != "TCP" || l.nextHop != "127.0.0.9:5070" || l.remoteTarget.Port != 5081 {
		t.Errorf("after a target refresh: transport %s, next hop %s, target %s; want the route set kept (RFC 3261 §12.2), the target changed",
			l.transport, l.nextHop, l.remoteTarget.String())
	}
}
