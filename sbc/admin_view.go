package sbc

import (
	"errors"
	"sort"
	"time"

	"github.com/natsbc/natsbc/cdr"
	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/registrar"
)

// What the admin API shows and does (cmd/natsbc/api.go): the calls up,
// hanging one up, the bindings, draining.

// Calls describes the calls up now, oldest first, in the shape of their
// call records (no end, no reason; the duration so far).
func (s *Server) Calls() []cdr.Record {
	calls, _ := s.calls.snapshot()
	now := time.Now()
	out := make([]cdr.Record, 0, len(calls))
	for _, c := range calls {
		if c.sub == nil {
			out = append(out, c.snapshot(now, "", c.mediaStats()))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// Call describes the call one of whose legs has Call-ID id.
func (s *Server) Call(id string) (cdr.Record, bool) {
	c := s.findCall(id)
	if c == nil {
		return cdr.Record{}, false
	}
	return c.snapshot(time.Now(), "", c.mediaStats()), true
}

var (
	// ErrNoCall: no call up has a leg with that Call-ID.
	ErrNoCall = errors.New("no such call")
	// ErrNotAnswered: the call is still being set up; natsbc hangs up
	// only answered calls (a ringing one ends by CANCEL from its caller).
	ErrNotAnswered = errors.New("the call is not answered yet")
)

// Hangup ends the call one of whose legs has Call-ID id with a BYE on
// both legs (Reason: the operator), and waits for their answers.
func (s *Server) Hangup(id string) error {
	c := s.findCall(id)
	if c == nil {
		return ErrNoCall
	}
	if c.answeredAt.Load() == 0 {
		return ErrNotAnswered
	}
	c.log.Info("call hung up by the operator")
	c.hangup("admin hangup", nil, `SIP;cause=200;text="ended by the operator"`)
	return nil
}

func (s *Server) findCall(id string) *call {
	calls, _ := s.calls.snapshot()
	for _, c := range calls {
		if c.sub == nil && (c.a.callID == id || c.b.callID == id) {
			return c
		}
	}
	return nil
}

func (c *call) mediaStats() media.CallStats {
	if c.media == nil {
		return media.CallStats{}
	}
	return c.media.Stats()
}

// BindingList lists the registrations natsbc relays.
func (s *Server) BindingList() []registrar.Listing { return s.reg.List() }

// Drain stops taking new calls and registrations (503), as a shutdown
// does, without ending anything: for taking the node out of a pool.
// Undrain takes them again. Both report whether anything changed.
func (s *Server) Drain() bool {
	if s.draining.Swap(true) {
		return false
	}
	s.log.Info("draining by the operator", "active_calls", s.calls.count())
	return true
}

// Undrain: see Drain. A Server shutting down stays draining.
func (s *Server) Undrain() bool {
	if s.shuttingDown.Load() || !s.draining.Swap(false) {
		return false
	}
	s.log.Info("taking calls again")
	return true
}

// Draining reports whether new calls are refused.
func (s *Server) Draining() bool { return s.draining.Load() }
