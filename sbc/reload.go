package sbc

import (
	"net/netip"
	"slices"
	"sync/atomic"

	"github.com/natsbc/natsbc/policy"
	"github.com/natsbc/natsbc/registrar"
)

// A reload (SIGHUP, `natsbc ctl reload`) changes what new calls, new
// registrations and the next keepalive round see; calls and bindings that
// exist keep what they were set up with: a call's legs hold their peers
// and routes, its media session the relay tuning it started with.

// livePolicy is the policy a reload can replace while requests read it.
type livePolicy struct{ p atomic.Pointer[policyHolder] }

type policyHolder struct{ Policy }

func newLivePolicy(p Policy) *livePolicy {
	l := &livePolicy{}
	l.set(p)
	return l
}

func (l *livePolicy) set(p Policy) { l.p.Store(&policyHolder{p}) }

func (l *livePolicy) Classify(src netip.Addr) policy.Peer { return l.p.Load().Classify(src) }

func (l *livePolicy) Route(from policy.Peer, ruri policy.RequestURI) (policy.Target, error) {
	return l.p.Load().Route(from, ruri)
}

// Reload is a new configuration for the running Server.
type Reload struct {
	Config Config
	Policy Policy
}

// Reload applies r to what starts from now on and returns the settings r
// changes that only a restart applies (they keep their running values):
// the SIP timers and size limit live in sipgo's globals, the token key
// signs the Contacts the PBX holds, the User-Agent is set on sipgo's agent.
func (s *Server) Reload(r Reload) (needRestart []string) {
	old := s.conf()
	next := r.Config.withDefaults()
	fixed := []struct {
		name    string
		changed bool
	}{
		{"sip.timers", next.T1 != old.T1 || next.T2 != old.T2 || next.T4 != old.T4},
		{"limits.max_message_size", next.MaxMessageSize != old.MaxMessageSize},
		{"registrations.token_secret", r.Config.Registrations.TokenSecret != nil && !slices.Equal(next.Registrations.TokenSecret, old.Registrations.TokenSecret)},
		{"sip.user_agent", next.UserAgent != old.UserAgent},
	}
	for _, f := range fixed {
		if f.changed {
			needRestart = append(needRestart, f.name)
		}
	}
	next.T1, next.T2, next.T4 = old.T1, old.T2, old.T4
	next.MaxMessageSize, next.UserAgent = old.MaxMessageSize, old.UserAgent
	next.Registrations.TokenSecret = old.Registrations.TokenSecret

	if r.Policy != nil {
		s.policy.set(r.Policy)
	}
	s.cfg.Store(&next)
	s.admit.setLimits(next.MaxCalls, next.MaxCallsPerSource, next.MaxRelayPairsPerSource)
	s.inFlight.max.Store(int64(next.MaxTransactions))
	s.regFlight.max.Store(int64(next.Registrations.MaxInFlightPerSource))
	s.reg.Retune(registrar.Tuning{NATExpires: next.Registrations.NATExpires, KeepaliveInterval: next.Keepalive.Interval,
		MaxMissed: next.Keepalive.MaxMissed, MaxPerSource: next.Registrations.MaxPerSource})
	s.log.Info("configuration reloaded", "restart_needed_for", needRestart)
	return needRestart
}
