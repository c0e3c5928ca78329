package sbc

import (
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/diagnosis"
)

// natsbc keeps the messages of its own calls (Options.Diagnosis,
// diagnosis.keep_calls) and explains a call that ended for a missing ACK
// with the engine `natsbc trace` runs on captures: the verdict in its log
// line is the one trace gives on the call's pcap (the admin API hands it
// out). Off by default: each message on the wire is then parsed once more
// for its Call-ID.

// record keeps a message on the wire for its call: under the call's id
// when its Call-ID is one of a call's legs, as pending when it is an
// INVITE's that may become a call.
func (s *Server) record(received bool, transport string, local, remote netip.AddrPort, raw []byte) {
	if !s.diag.Enabled() {
		return
	}
	msg, err := sip.ParseMessage(raw)
	if err != nil || msg.CallID() == nil || msg.CSeq() == nil {
		return
	}
	src, dst := remote, local
	if !received {
		src, dst = local, remote
	}
	m := diagnosis.Message{Time: time.Now(), Src: src, Dst: dst, Transport: strings.ToLower(transport), Raw: raw}
	id := msg.CallID().Value()
	if c := s.calls.byCallID(id); c != nil {
		s.diag.Add(c.a.callID, m)
		return
	}
	if msg.CSeq().MethodName == sip.INVITE {
		s.diag.AddPending(id, m)
	}
}

// diagnosisOf explains leg l of c from what natsbc recorded of it: the
// report on that leg's Call-ID, false when nothing was recorded.
func (s *Server) diagnosisOf(c *call, l *leg) (diagnosis.Report, bool) {
	msgs := s.diag.Messages(c.a.callID)
	for _, r := range diagnosis.Analyze(msgs) {
		if r.CallID == l.callID {
			return r, true
		}
	}
	return diagnosis.Report{}, false
}

// CallMessages returns what natsbc recorded of the call with this A-leg
// Call-ID (up or among the last ended): for the admin API's pcap and
// diagnosis.
func (s *Server) CallMessages(id string) []diagnosis.Message {
	if c := s.findCall(id); c != nil {
		id = c.a.callID
	}
	return s.diag.Messages(id)
}

// RecordedCalls lists the ended calls natsbc keeps the messages of (A-leg
// Call-ID and end reason), newest first.
func (s *Server) RecordedCalls() []diagnosis.EndedCall { return s.diag.Ended() }
