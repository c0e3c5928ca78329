//go:build linux

package natlab

import (
	"strings"
	"testing"
	"time"
)

// TestManyStreamsRefusedKeepThePool (issue 12, resource caps): a host on
// the internet sends INVITEs whose offers carry 64 m= lines, 50 a second
// for 10 s (its rate allowed, so only the stream cap stands in the way).
// Each is refused with 488 before natsbc takes a relay port; meanwhile a
// phone behind the NAT places 10 anchored calls through a pool of only 20
// port pairs, and every one succeeds. When all is over no pair is held.
func TestManyStreamsRefusedKeepThePool(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	l.AddScannerHost(t)
	const pairs = 20
	n := l.StartNatsbc(t, BaseConfig+mediaKnobs{Ports: "40000-40039"}.config()+`security:
  rate: 100
  burst: 100
admin:
  listen: `+adminAddr+"\n"+pbxPeer)
	callee := l.StartSipp(t, "callee", Sipp{Scenario: "callee.xml", NS: NSPBX, IP: PBXIP, Port: 5060, Calls: 10, Hold: time.Second})
	phone := l.StartSipp(t, "phone", Sipp{Scenario: "phone_call.xml", NS: NSLan, IP: PhoneIP, Port: 5060,
		Remote: EdgeOutIP + ":5060", Service: "callee", Calls: 10, Rate: 1, Hold: time.Second})
	greedy := l.StartSipp(t, "greedy", Sipp{Scenario: "invite_64_streams.xml", NS: NSScan, IP: ScannerIP, Port: 5060,
		Remote: EdgeOutIP + ":5060", Service: "callee", Calls: 500, Rate: 50, NoMessageTrace: true})

	MustSucceed(t, greedy, 60*time.Second) // every one of the 500 got its 488
	MustSucceed(t, phone, 60*time.Second)
	MustSucceed(t, callee, 10*time.Second)

	if total := metric(t, l, `natsbc_relay_port_pairs{state="free"}`) + metric(t, l, `natsbc_relay_port_pairs{state="in_use"}`); total != pairs {
		t.Errorf("the relay counts %v port pairs, want media.ports' %d", total, pairs)
	}
	// The phone's calls end with their BYE; natsbc frees their pairs as
	// each call ends, so none is held once the 10 "call ended" are in.
	for range 10 {
		n.Log.Await(t, 10*time.Second, "call ended", map[string]string{"reason": "bye-from-a"})
	}
	if inUse := metric(t, l, `natsbc_relay_port_pairs{state="in_use"}`); inUse != 0 {
		t.Errorf("%v relay port pairs held after every call ended", inUse)
	}
	refused := 0
	for _, e := range n.Log.Find("call rejected", nil) {
		if strings.HasSuffix(e.Str("a_call_id"), "@"+ScannerIP) && e.Str("status") == "488" {
			refused++
		}
	}
	if refused != 500 {
		t.Errorf("natsbc refused %d of the 500 64-stream INVITEs with 488", refused)
	}
	n.AssertNoCrash(t)
}
