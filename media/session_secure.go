package media

import "github.com/natsbc/natsbc/secmedia"

// secureBody is how a body natsbc writes to one leg ends the security of
// its streams (nil entries: streams written as before).
type secureBody struct {
	streams []*secureOut
	session *secureSession
}

// bridging reports whether natsbc ends media security on this call's
// legs: when either leg has a mode other than passthrough (SecurityMode).
func (s *relaySession) bridging() bool {
	return s.peers[LegA].Security != SecurityPassthrough || s.peers[LegB].Security != SecurityPassthrough
}

// secureOutputs decides how each RTP stream of streams (from the other
// leg) is written to leg to, making natsbc's keys and credentials for it
// the first time (s.mu held).
func (s *relaySession) secureOutputs(to Leg, streams []Stream) (*secureBody, error) {
	body := &secureBody{streams: make([]*secureOut, len(streams)), session: &secureSession{}}
	for i, st := range streams {
		if !st.Relayed() || carriageOf(st.Proto) != carryRTP {
			continue
		}
		peer, known := sdpStream(s.sdp[to], i)
		out, err := s.secureLegAt(to, i).output(st, peer, known, s.peers[to].Security, s.anchor.fingerprint)
		if err != nil {
			return nil, err
		}
		body.streams[i] = out
		if out.wire == wireDTLS {
			body.session.iceLite = true
			// RFC 9143 §7.3.1: bundled sections share the answerer's one
			// address, and natsbc gives each stream a port pair of its own;
			// so only the first is in the group, and the peer's other
			// sections keep transports of their own.
			if known && peer.Security.Bundled && len(body.session.bundle) == 0 {
				body.session.bundle = append(body.session.bundle, out.mid)
			}
		}
	}
	return body, nil
}

// secureLegAt is natsbc's end of stream i's security on leg, made on
// first use (s.mu held).
func (s *relaySession) secureLegAt(leg Leg, i int) *secureLeg {
	for len(s.secure) <= i {
		s.secure = append(s.secure, [2]*secureLeg{})
	}
	if s.secure[i][leg] == nil {
		s.secure[i][leg] = newSecureLeg(s.log.With("stream", i, "leg", leg.String()))
	}
	return s.secure[i][leg]
}

// secureLegOf is the leg's secureLeg of stream i, nil when natsbc has
// not secured it (s.mu held).
func (s *relaySession) secureLegOf(leg Leg, i int) *secureLeg {
	if i < len(s.secure) {
		return s.secure[i][leg]
	}
	return nil
}

// settleSecurity brings stream i's keys in line with both legs' last SDP,
// after an SDP from from (s.mu held). A peer that secures its media but
// to which natsbc has not answered yet gets its secureLeg now, so its
// packets are held (not relayed encrypted) until keys are agreed.
func (s *relaySession) settleSecurity(from Leg, i int) {
	if st, ok := sdpStream(s.sdp[from], i); ok && wireOf(st) != wirePlain {
		s.secureLegAt(from, i)
	}
	for _, leg := range []Leg{LegA, LegB} {
		if l := s.secureLegOf(leg, i); l != nil {
			peer, known := sdpStream(s.sdp[leg], i)
			l.settle(peer, known, s.dtlsStarter(leg, i))
		}
	}
}

// securePolicy sets what the packet path needs of leg's secureLeg into pol.
func (s *relaySession) securePolicy(pol *sidePolicy, leg Leg, i int, peer Stream, known bool) {
	l := s.secureLegOf(leg, i)
	if l == nil {
		return
	}
	in := wirePlain
	if known {
		in = wireOf(peer)
	}
	if l.wrote == wirePlain && in == wirePlain {
		return
	}
	pol.secure = l
	// Decryption authenticates the sender before it latches (relay_secure.go),
	// so any source holding the key may; with ICE only checks move media.
	pol.auth, pol.decrypts = nil, true
	pol.iceOnly = l.wrote == wireDTLS && known && peer.Security.ICEUfrag != ""
	if l.wrote == wireDTLS {
		pol.rtcpMux = known && peer.RTCPMux // natsbc's side of it always offers mux
	}
}

// dtlsStarter starts DTLS for leg's peer of stream i, sending through the
// leg's RTP socket to where its media is latched.
func (s *relaySession) dtlsStarter(leg Leg, i int) dtlsStarter {
	sd := s.streams[i].sides[leg]
	log := s.log.With("stream", i, "leg", leg.String())
	return func(l *secureLeg, client bool, remote []secmedia.Fingerprint) (*secmedia.DTLS, error) {
		cert, err := s.anchor.certificate()
		if err != nil {
			return nil, err
		}
		return secmedia.StartDTLS(secmedia.DTLSConfig{
			Certificate: cert,
			Client:      client,
			Remote:      remote,
			Send: func(pkt []byte) {
				l.send(func() {
					if to, ok := sd.rtpLatch.target(); ok {
						_, _ = sd.rtp.WriteToUDPAddrPort(pkt, to)
					}
				})
			},
			OnReady: func(t *secmedia.Transform) {
				l.transform.Store(t)
				log.Info("DTLS-SRTP keys agreed", "client", client)
			},
			OnFailed: func(err error) {
				// The call goes on without media to that peer; its next SDP
				// (a re-INVITE) starts a new handshake.
				l.dtlsFailed.Store(true)
				log.Warn("DTLS handshake failed", "err", err)
			},
			Logger: log,
		})
	}
}

// releaseSecurity ends every DTLS session of the call, before its relay
// sockets close (Close; the session is closed, so nothing else runs here).
func (s *relaySession) releaseSecurity() {
	for _, pair := range s.secure {
		for _, l := range pair {
			if l != nil {
				l.release()
			}
		}
	}
}
