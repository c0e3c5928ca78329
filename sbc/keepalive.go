package sbc

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/registrar"
)

// regHost is what the registrar's keepalive asks of the signalling core:
// pings on a binding's flow and un-registers at the PBX.
type regHost struct{ s *Server }

// Unregister runs the un-register on its own tracked goroutine: the
// keepalive loop never waits for the PBX.
func (h regHost) Unregister(b registrar.Binding) {
	h.s.goTracked(func() { h.s.unregisterAtPBX(b) })
}

// Ping sends one keepalive on a binding's flow. RFC 5626 §4.4.1 keeps TCP
// flows with CRLF and §4.4.2 UDP flows with STUN; natsbc is the server side
// of the flow, so it uses what every phone answers: an OPTIONS request
// (RFC 3261 §11), whose answer also proves the phone is still there. The
// "crlf" method sends a bare CRLFCRLF datagram instead, for phones that do
// not answer OPTIONS; it keeps the pinhole open but proves nothing.
func (h regHost) Ping(ctx context.Context, b registrar.Binding) bool {
	s := h.s
	sock := s.boundSocket(b.Flow.Transport, b.Flow.Local)
	if sock == nil {
		return false
	}
	if sent, err := s.crlfKeepalive(b.Flow.Transport, sock, b.Flow.Source); sent {
		return err == nil
	}
	req := keepaliveOptions(sock, b.Flow, b.URI)
	ctx, cancel := context.WithTimeout(ctx, s.keepaliveWait())
	defer cancel()
	res, err := s.keepaliveRequest(ctx, req, b.Answered)
	// Any answer, even 404 or 405, proves the flow works both ways: the
	// phone got natsbc's request at its address (ingress/unproven.go).
	answered := err == nil && res != nil
	if answered {
		s.shield.Prove(b.Flow.Source.Addr())
	}
	return answered
}

// crlfKeepalive sends the "crlf" keepalive, a bare CRLFCRLF datagram, to
// dst when that is the configured method and the flow is UDP. false: the
// flow gets an OPTIONS instead.
func (s *Server) crlfKeepalive(transport string, sock *socket, dst netip.AddrPort) (bool, error) {
	if s.conf().Keepalive.Method != KeepaliveCRLF || !isUDP(transport) || sock.packet == nil || !dst.IsValid() {
		return false, nil
	}
	_, err := sock.packet.WriteTo([]byte("\r\n\r\n"), net.UDPAddrFromAddrPort(dst))
	return true, err
}

// keepaliveWait bounds a keepalive OPTIONS: its answer must come before the
// next one is due.
func (s *Server) keepaliveWait() time.Duration {
	return min(s.conf().Keepalive.Interval, 64*s.conf().T1)
}

// keepaliveOptions is an out-of-dialog OPTIONS to the phone over its flow.
func keepaliveOptions(sock *socket, fl registrar.Flow, uri sip.Uri) *sip.Request {
	l := &leg{sock: sock, adv: fl.Adv, transport: fl.Transport, callID: newCallID(), localTag: newLocalTag(),
		local: sip.Uri{Scheme: "sip", User: "natsbc", Host: fl.Adv.Addr().String()}, remote: uri,
		remoteTarget: uri, nextHop: fl.Source.String()}
	return l.newInDialogRequest(sip.OPTIONS, 1)
}
