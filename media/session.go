package media

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
)

var errSessionClosed = errors.New("media: session closed")

// relaySession is one call's media: per m= index a relayed stream with a
// port pair on each leg, what each leg's SDP and peer said last, and the
// timeout watch. Its mutex guards that state against sbc's calls; the
// packet path never takes it.
type relaySession struct {
	anchor    *RelayAnchor
	tune      *Tuning // the relay's, as the session started
	callID    string
	log       *slog.Logger
	onTimeout func(reason string)

	mu      sync.Mutex
	closed  bool
	peers   [2]PeerInfo
	sdp     [2][]Stream    // the last SDP from each leg, by m= index
	streams []*relayStream // by m= index; nil until the m= line is enabled
	// negotiated is, per m= index, when its last SDP passed (anchor clock):
	// latching windows open then, and silence counts from then.
	negotiated []int64
	// carriage is, per m= index, how the relay carries it: after the
	// protocol of its last SDP, from either leg (a T.38 re-INVITE turns
	// an RTP stream into UDPTL from the offer on).
	carriage []carriage
	// origins are natsbc's o= lines, per leg the SDP is sent on.
	origins [2]legOrigin
	// secure is, per m= index, natsbc's end of each leg's media security
	// while it terminates it (session_secure.go).
	secure [][2]*secureLeg
	// answered: sbc said the call was answered, at answeredAt (anchor
	// clock). While it rings no silence counts.
	answered   bool
	answeredAt int64

	wake      chan struct{} // a new SDP: the timeout watch recomputes
	done      chan struct{} // closed by Close
	watchDone chan struct{} // closed when the watch has stopped watching
	tornDown  chan struct{} // closed when Close has freed everything
}

// rtcpTap hands the relayed RTCP of this call to Config.OnRTCP.
func (s *relaySession) rtcpTap() func(from, to netip.AddrPort, pkt []byte) {
	on := s.anchor.cfg.OnRTCP
	if on == nil {
		return nil
	}
	return func(from, to netip.AddrPort, pkt []byte) { on(s.callID, from, to, pkt) }
}

func newRelaySession(a *RelayAnchor, callID string, onTimeout func(string)) *relaySession {
	return &relaySession{
		callID: callID, anchor: a, tune: a.tune.Load(), log: a.log.With("call_id", callID), onTimeout: onTimeout,
		wake: make(chan struct{}, 1), done: make(chan struct{}),
		watchDone: make(chan struct{}), tornDown: make(chan struct{}),
		origins: [2]legOrigin{newLegOrigin(), newLegOrigin()},
	}
}

// SetPeer records who sits on leg and re-derives its latching rules.
func (s *relaySession) SetPeer(leg Leg, p PeerInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peers[leg] = p
	for i := range s.streams {
		if s.streams[i] != nil {
			s.applyPolicy(leg, i)
			s.aim(leg, i, false)
		}
	}
}

// Rewrite learns the media of leg from and returns the body for the other leg.
func (s *relaySession) Rewrite(from Leg, contentType string, body []byte, facing netip.Addr) ([]byte, error) {
	start, end, ok, err := locateSDP(contentType, body, 0)
	if err != nil {
		return nil, err
	}
	if !ok {
		return body, nil
	}
	sdp := body[start:end]
	streams, err := ParseStreams(sdp)
	if err != nil {
		return nil, asUnparsable(err)
	}
	// Checked before any port is taken: a refused offer costs nothing.
	if limit := s.tune.MaxStreams; len(streams) > limit {
		return nil, fmt.Errorf("%w: %d m= lines, at most %d (media.max_streams)", ErrTooManyStreams, len(streams), limit)
	}
	to := from.other()

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errSessionClosed
	}
	relay := make([]RelayPorts, len(streams))
	for i, st := range streams {
		if !st.Relayed() {
			continue // disabled stays disabled (RFC 3264 §6), TCP is declined
		}
		rs, err := s.streamAt(i)
		if err != nil {
			return nil, err
		}
		relay[i] = RelayPorts{RTP: rs.sides[to].port, RTCP: rs.sides[to].port + 1}
	}
	var sec *secureBody
	if s.bridging() {
		if sec, err = s.secureOutputs(to, streams); err != nil {
			return nil, asUnparsable(err)
		}
	}
	out, err := rewriteParsed(sdp, streams, facing, relay, s.peers[from].KeepICE, &s.origins[to], sec)
	if err != nil {
		return nil, asUnparsable(err)
	}

	prev := s.sdp[from]
	s.sdp[from] = streams
	now := s.anchor.clock()
	for i := range streams {
		if !streams[i].Relayed() {
			continue // not relayed: the loop above opened every other one
		}
		s.negotiated[i] = now
		s.carriage[i] = carriageOf(streams[i].Proto)
		if sec != nil {
			s.settleSecurity(from, i)
		}
		s.applyPolicy(LegA, i)
		s.applyPolicy(LegB, i)
		s.aim(from, i, changedAddress(prev, streams, i))
	}
	s.wakeWatch()
	return replaceSDP(body, start, end, out), nil
}

// Answered starts the media timeout: silence counts from now at the earliest.
func (s *relaySession) Answered() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.answered {
		s.answered, s.answeredAt = true, s.anchor.clock()
		s.wakeWatch()
	}
}

// wakeWatch makes the timeout watch recompute its deadline (s.mu held).
func (s *relaySession) wakeWatch() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// streamAt returns the relayed stream of m= index i, opening a pair on
// each leg the first time.
func (s *relaySession) streamAt(i int) (*relayStream, error) {
	if rs := s.streamOf(i); rs != nil {
		return rs, nil
	}
	a, err := s.anchor.openSide(LegA)
	if err != nil {
		return nil, err
	}
	b, err := s.anchor.openSide(LegB)
	if err != nil {
		_ = a.rtp.Close()
		_ = a.rtcp.Close()
		s.anchor.freeSide(a)
		return nil, err
	}
	for len(s.streams) <= i {
		s.streams = append(s.streams, nil)
		s.negotiated = append(s.negotiated, 0)
		s.carriage = append(s.carriage, carryRTP)
	}
	s.streams[i] = startStream(i, a, b, s.anchor.clock, s.log, s.rtcpTap())
	s.log.Debug("media stream relayed", "stream", i, "a_port", a.port, "b_port", b.port)
	return s.streams[i], nil
}

func (s *relaySession) streamOf(i int) *relayStream {
	if i < len(s.streams) {
		return s.streams[i]
	}
	return nil
}

// Stats reads the counters; the packet path is not stopped for it.
func (s *relaySession) Stats() CallStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cs CallStats
	for i, rs := range s.streams {
		if rs == nil {
			continue
		}
		ss := StreamStats{Index: i, AtoB: rs.sides[LegA].flow(), BtoA: rs.sides[LegB].flow()}
		for _, leg := range []Leg{LegA, LegB} {
			if st, ok := sdpStream(s.sdp[leg], i); ok {
				ss.Media = st.Media
			}
		}
		cs.AtoB.add(ss.AtoB)
		cs.BtoA.add(ss.BtoA)
		cs.Streams = append(cs.Streams, ss)
	}
	return cs
}

// Close stops the relay and the timeout watch, then frees the ports. A
// second Close, even a concurrent one, returns once the first is done.
func (s *relaySession) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.tornDown
		return nil
	}
	s.closed = true
	streams := s.streams
	s.mu.Unlock()

	close(s.done)
	// DTLS writes through the relay's sockets: it ends before they close.
	s.releaseSecurity()
	for _, rs := range streams {
		if rs == nil {
			continue
		}
		rs.close()
		for _, sd := range rs.sides {
			s.anchor.freeSide(sd)
		}
	}
	<-s.watchDone
	s.anchor.forget(s)
	close(s.tornDown)
	return nil
}

func asUnparsable(err error) error {
	if errors.Is(err, ErrUnparsableSDP) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrUnparsableSDP, err)
}
