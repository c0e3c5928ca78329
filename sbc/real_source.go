package sbc

import (
	"errors"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// The PBX only ever sees natsbc's address, so its own fail2ban would ban
// everyone or no one. natsbc watches the PBX's answers per real source
// (the shield bans brute-forcers), and tells the PBX the real source.

// noteAuthOutcome tells the shield how the PBX answered a request that
// carried credentials: a 401/407 is a wrong password, a 2xx forgives the
// failures so far. A challenge of a request without credentials is the
// normal first step of digest authentication (RFC 3261 §22.2) and counts
// for nothing.
//
// Over UDP it also feeds the proof that a source receives at its address
// (ingress/unproven.go): the nonce of a challenge natsbc relays to it, and
// the nonce its credentials answer.
func (s *Server) noteAuthOutcome(req *sip.Request, res *sip.Response) {
	src := parseAddrPort(req.Source()).Addr()
	udp := strings.EqualFold(req.Transport(), "UDP")
	creds := req.GetHeader("Authorization")
	if creds == nil {
		creds = req.GetHeader("Proxy-Authorization")
	}
	// The credentials first: the nonce they answer must have been relayed
	// before this request, not be the one its own challenge relays now.
	if cr, err := digestCredentials(creds); udp && err == nil {
		s.shield.CredentialsShown(src, cr.Nonce)
	}
	if udp && (res.StatusCode == 401 || res.StatusCode == 407) {
		for _, h := range res.GetHeaders(challengeHeader(res.StatusCode)) {
			if ch, err := digest.ParseChallenge(h.Value()); err == nil {
				s.shield.ChallengeSent(src, ch.Nonce)
			}
		}
	}
	if creds == nil {
		return
	}
	switch {
	case res.StatusCode == 401 || res.StatusCode == 407:
		s.shield.AuthFailed(src)
	case res.IsSuccess():
		s.shield.AuthSucceeded(src)
	}
}

// stampRealSource writes where in really came from into out, in the
// header security.real_source_header names ("ip:port;transport=udp"), and
// removes any such header a sender wrote itself: only natsbc's is true. A
// peer's request carries none (natsbc vouches for the sources it faces).
func (s *Server) stampRealSource(out, in *sip.Request) {
	name := s.conf().RealSourceHeader
	if name == "" {
		return
	}
	for out.GetHeader(name) != nil {
		out.RemoveHeader(name)
	}
	src := parseAddrPort(in.Source())
	if !src.IsValid() || s.policy.Classify(src.Addr()).Name != "" {
		return
	}
	out.AppendHeader(sip.NewHeader(name, src.String()+";transport="+lower(in.Transport())))
}

// challengeHeader is where a 401 or a 407 carries its challenge (RFC 3261
// §22.1, §22.3).
func challengeHeader(status int) string {
	if status == 407 {
		return "Proxy-Authenticate"
	}
	return "WWW-Authenticate"
}

// digestCredentials reads an Authorization or Proxy-Authorization header.
func digestCredentials(h sip.Header) (*digest.Credentials, error) {
	if h == nil {
		return nil, errNoCredentials
	}
	return digest.ParseCredentials(h.Value())
}

var errNoCredentials = errors.New("no credentials")
