//go:build linux

package natlab

import (
	"testing"
	"time"
)

// Default relay range (media.ports): where natsbc's relay ports come from
// when a scenario does not set it.
const defaultRelayMin, defaultRelayMax = 20000, 29999

// assertMediaAnchored (media scenario f) checks the SDP of the first call
// between the sipp runs caller (sent the INVITE, CSeq 1) and callee, with
// natsbc on the default relay range: the callee's offer and the caller's
// answer each name natsbc's address facing that side, and nothing else
// (o=, c=, every address), and a relay port of natsbc's, not the far
// side's own. A body passed through untouched (Kamailio's or the phone's
// addresses) fails it.
func assertMediaAnchored(t *testing.T, l *Lab, caller, callerFacing, callee, calleeFacing string) {
	t.Helper()
	offer := l.AwaitTraced(t, callee, nil, time.Second, "the INVITE", First(Received("INVITE ", "")))
	answer := l.AwaitTraced(t, caller, nil, time.Second, "the 200", First(Received("SIP/2.0 200", "1 INVITE")))
	ownOffer := l.AwaitTraced(t, caller, nil, time.Second, "its INVITE", First(Sent("INVITE ", "1 INVITE")))
	ownAnswer := l.AwaitTraced(t, callee, nil, time.Second, "its 200", First(Sent("SIP/2.0 200", "INVITE")))
	for _, c := range []struct {
		who, facing string
		got, farsdp TracedMessage
	}{
		{callee, calleeFacing, offer, ownOffer},
		{caller, callerFacing, answer, ownAnswer},
	} {
		got, far := mustSDP(t, c.got), mustSDP(t, c.farsdp)
		if err := got.OnlyAddress(c.facing); err != nil {
			t.Errorf("%s's %q is not anchored at natsbc's %s: %v", c.who, c.got.StartLine(), c.facing, err)
		}
		if p := int(got.Media.Port()); p < defaultRelayMin || p > defaultRelayMax || p == int(far.Media.Port()) {
			t.Errorf("%s's %q: m= port %d, want a relay port in %d-%d (the far side offered %d)",
				c.who, c.got.StartLine(), p, defaultRelayMin, defaultRelayMax, far.Media.Port())
		}
	}
}
