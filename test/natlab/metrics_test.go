//go:build linux

package natlab

import (
	"testing"
	"time"
)

// TestMetricsCountScriptedCalls (issue 13, item 1): after an answered, a
// cancelled, a rejected and an unacknowledged call, natsbc's /metrics
// count exactly those: started, answered, ended by reason, set-up times,
// the missing ACK and natsbc's 2xx retransmissions on the phone's leg.
func TestMetricsCountScriptedCalls(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, fastConfig(""))
	answered := phoneCall("phone_call.xml")
	answered.Hold = time.Second
	for _, c := range []struct {
		name, phone, callee, reason string
		phoneRun                    Sipp
	}{
		{"answered", "", "callee.xml", "bye-from-a", answered},
		{"cancelled", "phone_cancel.xml", "callee_cancel.xml", "cancel", Sipp{}},
		{"rejected", "phone_busy.xml", "callee_busy.xml", "rejected", Sipp{}},
		{"no-ack", "phone_noack.xml", "callee.xml", "no-ack", Sipp{}},
	} {
		run := c.phoneRun
		if c.phone != "" {
			run = phoneCall(c.phone)
		}
		callee := l.StartSipp(t, c.name+"-callee", calleeAt(c.callee, PBXIP))
		phone := l.StartSipp(t, c.name+"-phone", run)
		MustSucceed(t, phone, 30*time.Second)
		MustSucceed(t, callee, 15*time.Second)
		n.Log.Await(t, 10*time.Second, "call ended", map[string]string{"reason": c.reason})
	}

	for name, want := range map[string]float64{
		`natsbc_calls_started_total{peer="unknown"}`:                   4,
		`natsbc_calls_answered_total{peer="unknown"}`:                  2,
		`natsbc_calls_ended_total{peer="unknown",reason="bye-from-a"}`: 1,
		`natsbc_calls_ended_total{peer="unknown",reason="cancel"}`:     1,
		`natsbc_calls_ended_total{peer="unknown",reason="rejected"}`:   1,
		`natsbc_calls_ended_total{peer="unknown",reason="no-ack"}`:     1,
		`natsbc_call_setup_seconds_count`:                              2,
		`natsbc_acks_missing_total{leg="a"}`:                           1,
		`natsbc_acks_missing_total{leg="b"}`:                           0,
		`natsbc_2xx_retransmissions_total{by="natsbc",leg="b"}`:        0,
		`natsbc_2xx_retransmissions_total{by="peer",leg="b"}`:          0,
		`natsbc_active_calls`:                                          0,
		`natsbc_media_sessions`:                                        0,
		`natsbc_relay_port_pairs{state="in_use"}`:                      0,
		`natsbc_sip_malformed_total{transport="udp"}`:                  0,
	} {
		if got := metric(t, l, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	// 64*T1 = 6.4 s of natsbc's 2xx retransmissions (T1 100 ms doubling
	// to T2 1 s): eight, give or take the last at the deadline.
	if got := metric(t, l, `natsbc_2xx_retransmissions_total{by="natsbc",leg="a"}`); got < 6 || got > 9 {
		t.Errorf("natsbc retransmitted the unacknowledged 2xx %v times, want about 8", got)
	}
	if got := metric(t, l, `natsbc_sip_messages_total{direction="in",transport="udp"}`); got < 20 {
		t.Errorf("%v SIP messages in over UDP for four calls", got)
	}
	if got := metric(t, l, `natsbc_nat_checks_total{check="contact-private",where="dialog"}`); got < 4 {
		t.Errorf("the phone's private Contact was seen %v times for four calls", got)
	}
	n.AssertNoCrash(t)
}
