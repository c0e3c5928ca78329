package media

import (
	"fmt"
	"strconv"
	"time"
)

// watch ends the call's media when everything that should send media has
// fallen silent: Timeout, or HoldTimeout while the call is on hold. It sleeps
// until the earliest deadline and is woken by each new SDP; the packet
// path only stores its last packet's time.
func (s *relaySession) watch() {
	defer s.anchor.watchers.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		reason, wait := s.silence()
		if reason != "" {
			// watchDone first: onTimeout may call Close, which waits for it.
			close(s.watchDone)
			s.log.Info("media timeout", "reason", reason)
			if s.onTimeout != nil {
				s.onTimeout(reason)
			}
			return
		}
		if wait > 0 {
			timer.Reset(wait)
		} else {
			timer.Stop()
		}
		select {
		case <-s.done:
			timer.Stop()
			close(s.watchDone)
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// silence says whether the call's media has been silent too long, or how
// long until it could be (0: nobody has to send).
//
// As rtpengine does, the timeout applies to the call, not to a stream: it
// fires only when every stream that should carry media from some leg has
// been silent for the limit. A video or text stream that carries nothing
// while the audio flows, a fax stream that has not started yet, or one-way
// audio keep the call up; a call whose every stream went silent (both
// phones gone, a NAT that forgot both flows) ends.
func (s *relaySession) silence() (reason string, wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || !s.answered {
		return "", 0 // ringing: early media is optional
	}
	limit := s.tune.Timeout
	if s.onHold() {
		limit = s.tune.HoldTimeout
	}
	// The call is alive until its latest deadline: one per leg and stream
	// that should send.
	latest := int64(-1)
	for i, rs := range s.streams {
		if rs == nil {
			continue
		}
		for _, leg := range []Leg{LegA, LegB} {
			if !s.mustSend(leg, i) {
				continue
			}
			// Silence counts from the stream's last SDP and the answer at
			// the earliest: a peer starts sending once it has both.
			deadline := max(rs.sides[leg].lastMedia.Load(), s.negotiated[i], s.answeredAt) + int64(limit)
			latest = max(latest, deadline)
		}
	}
	if latest < 0 {
		return "", 0
	}
	now := s.anchor.clock()
	if now >= latest {
		return fmt.Sprintf("media timeout: no media from either leg for %s", seconds(limit)), 0
	}
	return "", time.Duration(latest - now)
}

// mustSend: leg's peer said it sends on m= line i and the other leg said
// it receives (RFC 3264 §6.1), so its silence means something is wrong.
func (s *relaySession) mustSend(leg Leg, i int) bool {
	mine, ok := sdpStream(s.sdp[leg], i)
	theirs, ok2 := sdpStream(s.sdp[leg.other()], i)
	if !ok || !ok2 || !mine.Relayed() || !theirs.Relayed() {
		return false // not negotiated yet, or disabled
	}
	return mine.Direction.Sends() && theirs.Direction.Receives()
}

// onHold: some leg holds some stream (sendonly, inactive or c=0.0.0.0).
func (s *relaySession) onHold() bool {
	for _, leg := range []Leg{LegA, LegB} {
		for _, st := range s.sdp[leg] {
			if st.Relayed() && st.OnHold() {
				return true
			}
		}
	}
	return false
}

// seconds prints 60s rather than 1m0s, as the log line promises.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}
