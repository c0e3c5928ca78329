package sbc

import (
	"errors"
	"net"
	"net/netip"

	"github.com/natsbc/natsbc/nat"
)

// learnPublicAddresses starts a STUN client for every socket whose
// advertised address comes from STUN (natsbc behind a 1:1 NAT, a cloud
// instance that only knows its private address). Each learns its address
// once before natsbc serves, so a natsbc that cannot learn it fails at
// start with the reason, then re-learns it every Options.STUNRefresh.
func (s *Server) learnPublicAddresses() error {
	var errs []error
	for _, sock := range s.sockets {
		if sock.spec.AdvertiseSTUN == "" {
			continue
		}
		if sock.public == nil {
			pa, err := s.newPublicAddress(sock)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			sock.public = pa
		}
		if err := sock.public.Start(s.base); err != nil {
			errs = append(errs, errors.New("listener "+sock.String()+": "+err.Error()))
		}
	}
	return errors.Join(errs...)
}

func (s *Server) newPublicAddress(sock *socket) (*nat.PublicAddress, error) {
	bind := ""
	if !sock.wildcard() {
		bind = sock.local.Addr().String()
	}
	log := s.log.With("listener", sock.String())
	return nat.NewPublicAddress(nat.PublicAddressConfig{
		Server:   sock.spec.AdvertiseSTUN,
		Interval: s.stunRefresh,
		Dial: func() (net.PacketConn, error) {
			// From the socket's own address: the 1:1 NAT maps that one.
			return net.ListenPacket("udp", net.JoinHostPort(bind, "0"))
		},
		Logger: log,
		OnChange: func(a netip.Addr) {
			log.Warn("public address changed", "addr", a.String(), "server", sock.spec.AdvertiseSTUN)
		},
	})
}

// refreshPublicAddresses re-learns every STUN-advertised address now (a
// local address changed: a DHCP renew may come with a new public one).
func (s *Server) refreshPublicAddresses() {
	for _, sock := range s.sockets {
		if sock.public != nil {
			sock.public.Refresh()
		}
	}
}

func (s *Server) closePublicAddresses() {
	for _, sock := range s.sockets {
		if sock.public != nil {
			sock.public.Close()
		}
	}
}
