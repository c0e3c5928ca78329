package configs

import "time"

// Bounds of the session timer knobs (RFC 4028). RFC 4028 §4 makes 90 s the
// smallest Min-SE; natsbc accepts down to a second so that tests can make a
// session expire quickly: below 90 s is for tests only.
const (
	minMinSE          = time.Second
	maxSessionExpires = 24 * time.Hour
)

func (k *checker) checkSessionTimer(s *SIPConfig) {
	k.between("sip.min_se", s.MinSE, minMinSE, maxSessionExpires)
	switch {
	case s.SessionExpires > maxSessionExpires:
		k.fail("sip.session_expires", "%v must be at most %v", s.SessionExpires, maxSessionExpires)
	case s.SessionExpires < s.MinSE:
		k.fail("sip.session_expires", "%v must not be shorter than sip.min_se (%v)", s.SessionExpires, s.MinSE)
	}
}
