package sbc

import (
	"fmt"
	"net/netip"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/registrar/store"
)

// loadBindings fills the table from the state file at start. A binding
// past its expiry is deleted; one whose socket is no longer configured is
// skipped (and left on disk, in case the socket comes back before it
// expires). UDP bindings are reachable at once, through the same socket to
// the same pinhole, and NATed ones get their keepalives again. A TCP
// binding's connection died with the old process and only the phone can
// open it again (natsbc cannot dial through its NAT): it is kept, and calls
// to it get 480 until the phone re-registers.
func (s *Server) loadBindings() error {
	if s.reg.disk == nil {
		return nil
	}
	recs, err := s.reg.disk.Bindings()
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	now := s.reg.now()
	var expired []uint64
	loaded, waiting := 0, 0
	for _, r := range recs {
		if !now.Before(r.Expires) {
			expired = append(expired, r.ID)
			continue
		}
		b, err := s.bindingFromRecord(r)
		if err != nil {
			s.log.Warn("stored binding not loaded", "aor", r.AOR, "token", s.reg.tokens.encode(r.ID), "error", err)
			continue
		}
		b.nextPing = now
		s.reg.store.put(b)
		loaded++
		if b.awaitsReconnect {
			waiting++
		}
	}
	if len(expired) > 0 {
		if err := s.reg.disk.Apply(nil, expired); err != nil {
			return fmt.Errorf("state file: deleting expired bindings: %w", err)
		}
	}
	s.log.Info("bindings loaded from the state file", "loaded", loaded, "awaiting_tcp_reconnect", waiting,
		"expired", len(expired), "skipped", len(recs)-loaded-len(expired))
	return nil
}

// bindingFromRecord rebuilds a binding on this process's sockets.
func (s *Server) bindingFromRecord(r store.Binding) (*binding, error) {
	phoneSock := s.socketAt(r.Flow.Transport, r.Flow.Local)
	if phoneSock == nil {
		return nil, fmt.Errorf("its socket %s %s is no longer configured", lower(r.Flow.Transport), r.Flow.Local)
	}
	pbxSock := s.socketAt(r.PBX.Transport, r.PBX.Local)
	if pbxSock == nil {
		return nil, fmt.Errorf("the socket %s %s facing the PBX is no longer configured", lower(r.PBX.Transport), r.PBX.Local)
	}
	var contact, ruri, from, to sip.Uri
	for _, u := range []struct {
		text string
		uri  *sip.Uri
	}{{r.Contact, &contact}, {r.PBX.RequestURI, &ruri}, {r.PBX.From, &from}, {r.PBX.To, &to}} {
		if err := sip.ParseUri(u.text, u.uri); err != nil {
			return nil, fmt.Errorf("URI %q: %w", u.text, err)
		}
	}
	return &binding{
		id: r.ID, token: s.reg.tokens.encode(r.ID), aor: r.AOR, key: r.Key, uri: contact,
		flow: flow{transport: r.Flow.Transport, sock: phoneSock, source: r.Flow.Source, adv: r.Flow.Advertised},
		nat:  r.Verdict, checks: r.Checks, keepalive: r.Keepalive,
		pbx: pbxSide{ruri: ruri, from: from, to: to, callID: r.PBX.CallID, cseq: r.PBX.CSeq,
			dst: r.PBX.Destination, sock: pbxSock, adv: r.PBX.Advertised, transport: r.PBX.Transport},
		asked: r.Asked, granted: r.Granted, expires: r.Expires, pbxExpires: r.PBXExpires,
		awaitsReconnect: !isUDP(r.Flow.Transport),
	}, nil
}

// socketAt is the configured socket of a transport bound to local.
func (s *Server) socketAt(transport string, local netip.AddrPort) *socket {
	network := "udp"
	if !isUDP(transport) {
		network = "tcp"
	}
	for _, sock := range s.sockets {
		if sock.network == network && sock.local == local {
			return sock
		}
	}
	return nil
}
