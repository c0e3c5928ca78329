package sbc

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/gobwas/ws"
)

// errSipgoDial: sipgo tried to open a TLS or WebSocket connection itself.
var errSipgoDial = errors.New("natsbc opens TLS connections itself and never opens WebSocket ones")

// wsWriteTimeout bounds a write to a WebSocket whose peer stopped reading:
// without it the writer, and whoever waits on the connection, would hang.
const wsWriteTimeout = 10 * time.Second

// noDialTransports are sipgo's TLS, WS and WSS transports unable to
// connect anywhere. sipgo opens a connection of its own when the one a
// request or response should use is gone (a server transaction's response
// goes to the Via sent-by, RFC 3261 §18.2.2): over WebSocket that would
// let a client make natsbc connect to any host:port it names, over TLS to
// reach the Via's address before any check. natsbc's flows are the
// connections peers opened and the TLS ones natsbc opens itself
// (dialTLS); everything else fails here.
func noDialTransports() sip.TransportLayerOption {
	refuse := func(string, string, syscall.RawConn) error { return errSipgoDial }
	tcpNoDial := func(net.Addr) net.Dialer { return net.Dialer{Control: refuse} }
	wsNoDial := func(net.Addr) ws.Dialer {
		return ws.Dialer{NetDial: func(context.Context, string, string) (net.Conn, error) { return nil, errSipgoDial }}
	}
	return sip.WithTransportLayerTransports(sip.TransportsConfig{
		TLS: &sip.TransportTLS{TransportTCP: &sip.TransportTCP{DialerCreate: tcpNoDial}},
		WS:  &sip.TransportWS{DialerCreate: wsNoDial, WriteTimeout: wsWriteTimeout},
		WSS: &sip.TransportWSS{TransportWS: &sip.TransportWS{DialerCreate: wsNoDial, WriteTimeout: wsWriteTimeout,
			DialURI: func(host string) string { return "wss://" + host }}},
	})
}

// sipgoTLSConfig is the tls.Config of sipgo's own dials, which
// noDialTransports already refuses: a second lock, so that a dial sipgo
// might still make fails its handshake instead of reaching a peer
// unverified.
func sipgoTLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12,
		VerifyConnection: func(tls.ConnectionState) error { return errSipgoDial }}
}
