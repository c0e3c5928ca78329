package ingress

import "net/netip"

// No amplification (issue 12, item 7). A UDP source address can be forged:
// whatever natsbc sends "back" to it may land on a victim who never asked.
// So until a source has proven that it receives what is sent to its
// address, natsbc sends it no more bytes than it received from it, plus
// ShieldConfig.UnprovenCredit bytes for the ordinary overhead of a call
// (100 Trying, 180 and the retransmission of a lost response), which
// refills at 1 KiB a second: a forged address costs its owner at most that.
// Bytes, not datagrams: an INVITE's 100 Trying and final answer are two
// datagrams for one, but smaller than the INVITE together. A source
// proves itself by showing what natsbc sent only to its address: the
// nonce of a digest challenge natsbc relayed to it, the To tag of a 2xx
// (in the ACK), or the answer to a keepalive (proof.go keeps the proofs). Peers are never limited. A bare CRLF
// keepalive (4 bytes, RFC 5626 §3.5.1) is not counted: it is smaller than
// the REGISTER that made its binding.

// heard counts size bytes from src towards what natsbc may send it, and
// reports whether src is banned (expiring the ban when its time is up).
func (s *Shield) heard(src netip.Addr, size int) (banned bool) {
	s.mu.Lock()
	st, ok := s.sources[src]
	if !ok {
		s.mu.Unlock()
		return false // a new source starts with the whole credit
	}
	banned, expired := s.banStateLocked(st)
	if !banned && s.cfg.UnprovenCredit > 0 {
		s.refillLocked(st, size)
	}
	s.mu.Unlock()
	if expired {
		s.logBanExpired(src)
	}
	return banned
}

// MaySend reports whether natsbc may send a datagram of size bytes to dst
// over UDP, and spends that much of its credit when dst is not proven. A
// false answer is counted.
func (s *Shield) MaySend(dst netip.Addr, size int) bool {
	if s.cfg.UnprovenCredit <= 0 || size <= 4 {
		return true
	}
	dst = dst.Unmap()
	now := s.now()
	if s.proofs.isProven(dst, now) {
		return true
	}
	if s.isPeer(dst) {
		// Remembered as proven, so that the next datagram to the PBX
		// costs a map lookup, not the policy's classification.
		s.proofs.prove(dst, now)
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stateLocked(dst, now, float64(s.cfg.Burst))
	s.refillLocked(st, 0)
	if st.credit < float64(size) {
		s.unprovenDropped.Add(1)
		return false
	}
	st.credit -= float64(size)
	return true
}

// unprovenRefill is what an unproven source's credit regains a second, in
// bytes.
const unprovenRefill = 1024.0

// refillLocked adds the credit regained since the last refill and heard
// bytes, up to four times UnprovenCredit (what a source may bank).
func (s *Shield) refillLocked(st *sourceState, heard int) {
	now := s.now()
	st.credit += now.Sub(st.creditAt).Seconds()*unprovenRefill + float64(heard)
	st.creditAt = now
	st.credit = min(st.credit, float64(4*s.cfg.UnprovenCredit))
}

// Prove records that src receives what is sent to its address (it
// answered a keepalive, or acknowledged a 2xx with the To tag natsbc sent
// it): natsbc no longer bounds what it sends it.
func (s *Shield) Prove(src netip.Addr) {
	if s.cfg.UnprovenCredit <= 0 {
		return
	}
	s.proofs.prove(src.Unmap(), s.now())
}

// ChallengeSent records that natsbc relays a digest challenge with nonce
// to src (RFC 3261 §22.4): only a source that receives at its address can
// send it back.
func (s *Shield) ChallengeSent(src netip.Addr, nonce string) {
	if s.cfg.UnprovenCredit <= 0 || nonce == "" {
		return
	}
	s.proofs.challenged(src.Unmap(), nonce, s.now())
}

// CredentialsShown records that src sent credentials answering nonce: if
// natsbc relayed that nonce to src, src is proven. Whether the password
// was right does not matter; a 2xx of the PBX alone proves nothing, since
// a request of a forged source may need no credentials at all.
func (s *Shield) CredentialsShown(src netip.Addr, nonce string) {
	if s.cfg.UnprovenCredit <= 0 {
		return
	}
	s.proofs.showed(src.Unmap(), nonce, s.now())
}

// Proven reports whether src has proven it receives what is sent to its
// address (true too when the rule is off): the relay may then send media to
// the address its SDP names before any of its media arrives.
func (s *Shield) Proven(src netip.Addr) bool {
	if s.cfg.UnprovenCredit <= 0 {
		return true
	}
	src = src.Unmap()
	if s.isPeer(src) {
		return true
	}
	return s.proofs.isProven(src, s.now())
}
