package sbc

import (
	"github.com/natsbc/natsbc/ingress"
	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/registrar"
)

// Stats is a read-only snapshot of what the Server holds, for metrics.
type Stats struct {
	// ActiveCalls counts calls from INVITE until they end.
	ActiveCalls int
	// Subscriptions counts the SUBSCRIBE dialogs natsbc holds.
	Subscriptions int
	// Shield counts what the ingress shield refused, by reason, and its
	// bans and unbans (counters since start).
	Shield ingress.ShieldStats
	// TCP sums the stream listeners' connections and refusals.
	TCP ingress.TCPStats
	// Bindings counts registered contacts (one per AoR and Contact).
	Bindings int
	// MediaSessions counts active calls with at least one relayed stream:
	// 0 with media anchoring off, where no SDP is rewritten.
	MediaSessions int
	// RelayPairs and RelayPairsFree count the relay's port pairs (all of
	// media.ports, and those no call holds); 0 without anchoring.
	RelayPairs, RelayPairsFree int
	// Shed counts new requests refused 503 over limits.max_transactions.
	Shed uint64
	// Calls counts calls started, answered and ended (counters since
	// start) and their set-up times.
	Calls *CallCounts
	// Ops counts ACKs missing, 2xx retransmissions, messages per
	// transport, NAT checks and the relay's media (ops_counters.go).
	Ops *OpsStats
	// Registrar counts bindings by NAT verdict and keepalives.
	Registrar *registrar.Stats
}

// Stats takes the snapshot. It walks every call (each session's Stats
// takes that session's lock), so it is for a scrape every few seconds, not
// for the packet or message path.
func (s *Server) Stats() Stats {
	calls, _ := s.calls.snapshot()
	st := Stats{Bindings: s.Bindings(), Shield: s.shield.Stats()}
	st.Shed = s.inFlight.shed.Load()
	counts := s.counts.snapshot()
	st.Calls = &counts
	if pc, ok := s.media.(media.PortCounter); ok {
		st.RelayPairsFree, st.RelayPairs = pc.PortPairs()
	}
	for _, g := range s.tcpGuards {
		t := g.Stats()
		st.TCP.Open += t.Open
		st.TCP.Refused += t.Refused
		st.TCP.Cut += t.Cut
	}
	var up []*call
	for _, c := range calls {
		if c.sub != nil {
			st.Subscriptions++
			continue
		}
		st.ActiveCalls++
		up = append(up, c)
		if len(c.mediaStats().Streams) > 0 {
			st.MediaSessions++
		}
	}
	ops := s.ops.snapshot(up)
	ops.Malformed = map[string]uint64{}
	for _, t := range ingress.ParseTransports {
		ops.Malformed[t] = s.parseErrors.Of(t)
	}
	for _, l := range s.listeners {
		if g, ok := l.Packet.(*ingress.GuardedPacketConn); ok {
			ops.Malformed["udp"] += g.Stats().Malformed
		}
	}
	st.Ops = &ops
	reg := s.reg.Stats()
	st.Registrar = &reg
	return st
}

// Bindings is the number of registered contacts natsbc holds.
func (s *Server) Bindings() int { return s.reg.Count() }
