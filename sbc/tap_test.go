package sbc

import (
	"net/netip"
	"strings"
	"sync"
	"testing"
)

// recordingTap keeps the first line and addresses of what it saw.
type recordingTap struct {
	mu   sync.Mutex
	seen []tapped
}

type tapped struct {
	received      bool
	local, remote netip.AddrPort
	line          string
}

func (r *recordingTap) SIP(received bool, _ string, local, remote netip.AddrPort, msg []byte) {
	line, _, _ := strings.Cut(string(msg), "\r\n")
	r.mu.Lock()
	r.seen = append(r.seen, tapped{received, local, remote, line})
	r.mu.Unlock()
}

func (r *recordingTap) has(want tapped) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.seen {
		if s == want {
			return true
		}
	}
	return false
}

// Issue 13, item 2: the tap (HEP export) sees each message of both legs
// with natsbc's socket and the real far address, and the B-leg's Call-ID
// correlates to the A-leg's.
func TestFlowTapSeesBothLegs(t *testing.T) {
	t.Parallel()
	tap := &recordingTap{}
	b := newFlowBedWith(t, nil, func(o *Options, _ netip.AddrPort) { o.Tap = tap })
	tr := b.establish(t)
	inv := "INVITE " + tr.bInvite.(interface{ StartLine() string }).StartLine()[len("INVITE "):]
	for _, want := range []tapped{
		{true, b.outside, b.phone.addr(), strings.SplitN(tr.phoneInvite, "\r\n", 2)[0]},
		{false, b.inside, b.pbx.addr(), inv},
		{true, b.inside, b.pbx.addr(), "SIP/2.0 200 OK"},
		{false, b.outside, b.phone.addr(), "SIP/2.0 200 OK"},
	} {
		if !tap.has(want) {
			t.Errorf("the tap did not see %+v", want)
		}
	}
	if got := b.srv.CorrelationID(tr.pbx.callID); got != tr.phone.callID {
		t.Errorf("CorrelationID(B-leg) = %q, want the A-leg's %q", got, tr.phone.callID)
	}
	if got := b.srv.CorrelationID("unknown@x"); got != "unknown@x" {
		t.Errorf("CorrelationID of no call = %q", got)
	}
}
