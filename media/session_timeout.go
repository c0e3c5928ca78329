package media

import (
	"fmt"
	"strconv"
	"time"
)

// watch ends the call's media when a leg that should send RTP falls
// silent: Timeout, or HoldTimeout while the call is on hold. It sleeps
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

// silence names a leg silent for too long, or says how long until the
// next one could be (0: nobody has to send).
func (s *relaySession) silence() (reason string, wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || !s.answered {
		return "", 0 // ringing: early media is optional
	}
	limit := s.anchor.cfg.Timeout
	if s.onHold() {
		limit = s.anchor.cfg.HoldTimeout
	}
	now := s.anchor.clock()
	next := int64(-1)
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
			deadline := max(rs.sides[leg].lastRTP.Load(), s.negotiated[i], s.answeredAt) + int64(limit)
			if now >= deadline {
				return fmt.Sprintf("media timeout: no RTP from leg %s for %s", leg, seconds(limit)), 0
			}
			if next < 0 || deadline < next {
				next = deadline
			}
		}
	}
	if next < 0 {
		return "", 0
	}
	return "", time.Duration(next - now)
}

// mustSend: leg's peer said it sends on m= line i and the other leg said
// it receives (RFC 3264 §6.1), so its silence means something is wrong.
func (s *relaySession) mustSend(leg Leg, i int) bool {
	mine, ok := sdpStream(s.sdp[leg], i)
	theirs, ok2 := sdpStream(s.sdp[leg.other()], i)
	if !ok || !ok2 || mine.Port == 0 || theirs.Port == 0 {
		return false // not negotiated yet, or disabled
	}
	return mine.Direction.Sends() && theirs.Direction.Receives()
}

// onHold: some leg holds some stream (sendonly, inactive or c=0.0.0.0).
func (s *relaySession) onHold() bool {
	for _, leg := range []Leg{LegA, LegB} {
		for _, st := range s.sdp[leg] {
			if st.Port != 0 && st.OnHold() {
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
