package sbc

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/emiago/sipgo/sip"
)

// keepaliveLoop owns the timers of every binding: it pings NATed phones
// and drops bindings that were not refreshed in time. It runs from Start
// until Shutdown.
func (s *Server) keepaliveLoop() {
	tick := time.NewTicker(keepaliveTick(s.cfg.Keepalive.Interval))
	defer tick.Stop()
	for {
		select {
		case <-s.base.Done():
			return
		case <-tick.C:
			s.keepaliveRound()
		}
	}
}

// keepaliveTick is how often the loop looks at the table: fine enough that
// a ping is never much later than its interval, coarse enough to be free.
func keepaliveTick(interval time.Duration) time.Duration {
	return min(max(interval/10, 10*time.Millisecond), time.Second)
}

// keepaliveRound expires stale bindings and starts the pings that are due.
func (s *Server) keepaliveRound() {
	expired, due := s.reg.dueBindings(s.cfg.Keepalive.Interval)
	for _, b := range expired {
		s.dropBinding(b, "expired")
	}
	for _, b := range due {
		s.goTracked(func() { s.ping(b) })
	}
}

// dueBindings returns the bindings past their expiry and those whose next
// keepalive is due, marking the latter as pinged: the next one is due an
// interval later, and none starts while one is in flight.
func (r *registrar) dueBindings(interval time.Duration) (expired, due []*binding) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.store.all() {
		switch {
		case now.After(b.expires):
			expired = append(expired, b)
		// A TCP flow lost in a restart only comes back from the phone.
		case b.keepalive && !b.pingPending && !b.awaitsReconnect && !now.Before(b.nextPing):
			b.pingPending = true
			b.nextPing = now.Add(interval)
			due = append(due, b)
		}
	}
	return expired, due
}

// ping sends one keepalive on a binding's flow. RFC 5626 §4.4.1 keeps TCP
// flows with CRLF and §4.4.2 UDP flows with STUN; natsbc is the server side
// of the flow, so it uses what every phone answers: an OPTIONS request
// (RFC 3261 §11), whose answer also proves the phone is still there. The
// "crlf" method sends a bare CRLFCRLF datagram instead, for phones that do
// not answer OPTIONS; it keeps the pinhole open but proves nothing.
func (s *Server) ping(b *binding) {
	s.reg.mu.Lock()
	fl, uri := b.flow, b.uri
	s.reg.mu.Unlock()
	if sent, err := s.crlfKeepalive(fl.transport, fl.sock, fl.source); sent {
		s.pingDone(b, err == nil)
		return
	}
	req := s.keepaliveOptions(fl, uri)
	ctx, cancel := context.WithTimeout(s.base, s.keepaliveWait())
	defer cancel()
	res, err := s.do(ctx, req)
	// Any answer, even 404 or 405, proves the flow works both ways.
	s.pingDone(b, err == nil && res != nil)
}

// crlfKeepalive sends the "crlf" keepalive, a bare CRLFCRLF datagram, to
// dst when that is the configured method and the flow is UDP. false: the
// flow gets an OPTIONS instead.
func (s *Server) crlfKeepalive(transport string, sock *socket, dst netip.AddrPort) (bool, error) {
	if s.cfg.Keepalive.Method != KeepaliveCRLF || !isUDP(transport) || sock.packet == nil || !dst.IsValid() {
		return false, nil
	}
	_, err := sock.packet.WriteTo([]byte("\r\n\r\n"), net.UDPAddrFromAddrPort(dst))
	return true, err
}

// keepaliveWait bounds a keepalive OPTIONS: its answer must come before the
// next one is due.
func (s *Server) keepaliveWait() time.Duration {
	return min(s.cfg.Keepalive.Interval, 64*s.cfg.T1)
}

// pingDone counts a keepalive's outcome and drops the binding after
// MaxMissed unanswered ones in a row (RFC 5626 §4.4: a failed keepalive
// means the flow is gone).
func (s *Server) pingDone(b *binding, answered bool) {
	s.reg.mu.Lock()
	b.pingPending = false
	if answered {
		b.missed = 0
		s.reg.mu.Unlock()
		return
	}
	b.missed++
	missed := b.missed
	s.reg.mu.Unlock()
	if s.base.Err() != nil {
		return
	}
	s.log.Info("keepalive unanswered", "aor", b.aor, "token", b.token, "flow", b.flow.String(), "missed", missed)
	if missed >= s.cfg.Keepalive.MaxMissed {
		s.dropBinding(b, "keepalive")
	}
}

// keepaliveOptions is an out-of-dialog OPTIONS to the phone over its flow.
func (s *Server) keepaliveOptions(fl flow, uri sip.Uri) *sip.Request {
	l := &leg{sock: fl.sock, adv: fl.adv, transport: fl.transport, callID: newCallID(), localTag: newLocalTag(),
		local: sip.Uri{Scheme: "sip", User: "natsbc", Host: fl.adv.Addr().String()}, remote: uri,
		remoteTarget: uri, nextHop: fl.source.String()}
	return l.newInDialogRequest(sip.OPTIONS, 1)
}
