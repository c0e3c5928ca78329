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
