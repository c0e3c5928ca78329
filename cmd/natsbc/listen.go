package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/natsbc/natsbc/certs"
	"github.com/natsbc/natsbc/nat"
	"github.com/natsbc/natsbc/sbc"
)

// openListeners binds every configured socket, or none: a failure closes
// what was opened and names the socket in one line. A tls or wss socket is
// a TLS listener around the TCP one, its certificate read from certs per
// handshake (so a reload reaches new handshakes).
func openListeners(specs []sbc.ListenSpec, files *certs.Store) ([]sbc.Listener, error) {
	var out []sbc.Listener
	for _, spec := range specs {
		l := sbc.Listener{Spec: spec}
		addr := spec.Addr.String()
		var err error
		switch spec.Network {
		case "udp":
			l.Packet, err = net.ListenPacket(family("udp", spec.Addr.Addr()), addr)
			if err == nil {
				growReceiveBuffer(l.Packet)
			}
		case "tcp", "ws":
			l.Stream, err = net.Listen(family("tcp", spec.Addr.Addr()), addr)
		case "tls", "wss":
			var cfg *tls.Config
			if cfg, err = files.ServerConfig(spec.TLS); err != nil {
				break
			}
			if l.Stream, err = net.Listen(family("tcp", spec.Addr.Addr()), addr); err == nil {
				l.Stream = tls.NewListener(l.Stream, cfg)
			}
		default:
			err = fmt.Errorf("unknown network %q", spec.Network)
		}
		if err != nil {
			closeListeners(out)
			var op *net.OpError
			if errors.As(err, &op) && op.Err != nil {
				err = op.Err
			}
			return nil, fmt.Errorf("cannot listen on %s %s: %v", spec.Network, addr, err)
		}
		out = append(out, l)
	}
	return out, nil
}

// family pins IPv4 addresses (0.0.0.0 included) to the IPv4 socket family,
// so a wildcard socket reports 0.0.0.0 and not [::].
func family(network string, a netip.Addr) string {
	if a.Is4() {
		return network + "4"
	}
	return network
}

func closeListeners(ls []sbc.Listener) {
	for _, l := range ls {
		if l.Packet != nil {
			_ = l.Packet.Close()
		}
		if l.Stream != nil {
			_ = l.Stream.Close()
		}
	}
}

// configuredRouter is the fallback when netlink cannot answer: every
// destination is reached from the first specific listen address.
func configuredRouter(specs []sbc.ListenSpec) nat.Router {
	table := nat.StaticRouter{}
	for _, s := range specs {
		if !s.Addr.Addr().IsUnspecified() {
			if s.Addr.Addr().Is4() {
				table[netip.MustParsePrefix("0.0.0.0/0")] = s.Addr.Addr()
			} else {
				table[netip.MustParsePrefix("::/0")] = s.Addr.Addr()
			}
			break
		}
	}
	return table
}
