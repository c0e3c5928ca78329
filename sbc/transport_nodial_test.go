package sbc

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// sipgo cannot open a TLS or WS connection of its own: a request whose
// connection is gone never reaches the address it names (a WebSocket
// client's forged Via, say), not even its TCP handshake. sipgo's WSS dial
// has no hook before its TCP connect: there the handshake fails on
// sipgoTLSConfig, so nothing of SIP is sent.
func TestSipgoOpensNoConnections(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := target.Accept(); err == nil {
			c.Close()
			accepted <- struct{}{}
		}
	}()
	addr := target.Addr().(*net.TCPAddr)
	dial := func(transport string) error {
		req := sip.NewRequest(sip.OPTIONS, sip.Uri{Host: addr.IP.String(), Port: addr.Port})
		via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: transport,
			Host: "127.0.0.1", Port: 5060, Params: sip.NewParams()}
		via.Params.Add("branch", sip.GenerateBranch())
		req.AppendHeader(via)
		req.SetTransport(transport)
		req.SetDestination(addr.String())
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := b.srv.ua.TransportLayer().ClientRequestConnection(ctx, req)
		return err
	}
	for _, transport := range []string{"TLS", "WS"} {
		if err := dial(transport); !errors.Is(err, errSipgoDial) {
			t.Errorf("%s: sipgo's dial gave %v, want errSipgoDial", transport, err)
		}
	}
	select {
	case <-accepted:
		t.Fatal("sipgo connected to the address a request named")
	default: // both dials failed before connecting: nothing can have arrived
	}
	if err := dial("WSS"); err == nil {
		t.Fatal("sipgo opened a WSS connection of its own")
	}
}
