//go:build linux

package natlab

import (
	"strings"
	"testing"
	"time"
)

// TestTimerCStopsReliable180 (review finding 1.1): the NATed phone requires
// 100rel and never PRACKs the 180 natsbc makes reliable for it; the callee
// rings and vanishes (it gets the CANCEL, answers nothing). Timer C (3 s)
// answers the phone 408 and cancels the callee; from then on the phone gets
// nothing but that 408 (RFC 3262 §3: the final response ends the reliable
// 180's retransmission, and no 504 follows when its PRACK time, 64*T1 =
// 6.4 s, runs out). The call ends for Timer C once natsbc gives the callee
// up, 64*T1 after the CANCEL.
func TestTimerCStopsReliable180(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, fastConfig("  timer_c: 3s\n"))
	callee := l.StartSipp(t, "callee", calleeAt("callee_vanish.xml", PBXIP))
	phone := l.StartSipp(t, "phone", phoneCall("phone_timer_c_100rel.xml"))

	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, callee, 15*time.Second)
	n.Log.Await(t, 15*time.Second, "CANCEL not followed by a final response: INVITE given up", nil)
	awaitEnded(t, n, "timer-c")
	assertOneCallEnded(t, n)
	msgs, err := l.ReadSippTrace("phone")
	if err != nil {
		t.Fatalf("phone trace: %v", err)
	}
	final := ""
	for _, m := range msgs {
		if !m.Received || !strings.HasSuffix(m.Header("CSeq"), "INVITE") {
			continue
		}
		line := m.StartLine()
		switch {
		case final == "" && strings.HasPrefix(line, "SIP/2.0 408"):
			final = line
		case final == "" && strings.HasPrefix(line, "SIP/2.0 180") && !strings.Contains(m.Text, "100rel"):
			t.Errorf("the 180 to a phone that requires 100rel is not reliable:\n%s", m.Text)
		case final != "" && line != final:
			t.Errorf("after its %q the phone got %q", final, line)
		}
	}
	if final == "" {
		t.Errorf("the phone never got its 408")
	}
	n.AssertNoCrash(t)
}
