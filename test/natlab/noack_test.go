//go:build linux

package natlab

import (
	"testing"
	"time"
)

// TestNoACKEndsCallBothLegs (scenario c): the phone never ACKs the 200.
// RFC 3261 §13.3.1.4: natsbc retransmits the 2xx until 64*T1 (32 s with
// T1 = 500 ms) and then ends the dialog; it must BYE both legs within
// 64*T1 + 2 s of the answer. Both sipp sides receive the BYE and answer
// 200 (their scenarios require it), and natsbc logs the diagnosis.
func TestNoACKEndsCallBothLegs(t *testing.T) {
	t.Parallel()
	const t1 = 500 * time.Millisecond
	const limit = 64*t1 + 2*time.Second
	l := NewLab(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer)
	callee := l.StartSipp(t, "callee", calleeAt("callee.xml", PBXIP))
	phone := l.StartSipp(t, "phone", phoneCall("phone_noack.xml"))

	answered := n.Log.Await(t, 10*time.Second, "call answered", nil)
	MustSucceed(t, phone, limit+10*time.Second)
	MustSucceed(t, callee, 15*time.Second)
	// When each side received its BYE, as its own message trace says (a
	// sipp process can take seconds to exit on a loaded machine).
	for _, side := range []struct {
		name string
		p    *Proc
	}{{"phone", phone}, {"callee", callee}} {
		bye := l.AwaitTraced(t, side.name, side.p, 5*time.Second, "natsbc's BYE", First(InDialog("BYE ")))
		if d := bye.At.Sub(answered.At); d > limit {
			t.Errorf("%s got its BYE %v after the answer, want within %v", side.name, d, limit)
		}
	}

	warn := n.Log.Await(t, 5*time.Second, "no ACK for 2xx, ending call", nil)
	if d := warn.At.Sub(answered.At); d > limit {
		t.Errorf("natsbc gave up %v after the answer, want within %v", d, limit)
	}
	if d := warn.At.Sub(answered.At); d < 64*t1-2*time.Second {
		t.Errorf("natsbc gave up %v after the answer: earlier than 64*T1 = %v", d, 64*t1)
	}
	if lvl := warn.Str("level"); lvl != "WARN" {
		t.Errorf("no-ACK line at level %q, want WARN", lvl)
	}
	for _, k := range []string{"a_call_id", "b_call_id", "leg", "sent_to", "contact", "via", "source", "route_rule"} {
		if !warn.Has(k) {
			t.Errorf("no-ACK line lacks %q: %s", k, warn.Raw)
		}
	}
	awaitEnded(t, n, "no-ack")
	assertOneCallEnded(t, n)
	n.AssertNoCrash(t)
}
