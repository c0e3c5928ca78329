//go:build linux

package natlab

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCallsSurviveLoss (issue 12): the outside link loses 20 % of the
// packets at random, both ways, between the NAT and natsbc, while the
// phone behind the NAT places 20 calls to the PBX. Every transaction
// lives on its retransmissions (RFC 3261 §17: the phone's INVITE and BYE,
// natsbc's 2xx until the ACK comes, natsbc's answers again to a
// retransmitted request), so all 20 calls are set up and end with their
// BYE. The loss is iptables' statistic match on the NAT's forwarding path:
// tc netem is the usual tool, but the sch_netem module is not in every
// kernel (this lab's CI has none) and the effect on the wire is the same.
func TestCallsSurviveLoss(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	for _, dir := range [][]string{{"-i", "wan0"}, {"-o", "wan0"}} {
		l.inNS(t, NSNAT, append(append([]string{"iptables", "-I", "FORWARD"}, dir...),
			"-m", "statistic", "--mode", "random", "--probability", "0.2", "-j", "DROP")...)
	}
	n := l.StartNatsbc(t, BaseConfig+pbxPeer)
	callee := l.StartSipp(t, "callee", Sipp{Scenario: "callee.xml", NS: NSPBX, IP: PBXIP, Port: 5060, Calls: 20, Hold: time.Second})
	phone := l.StartSipp(t, "phone", Sipp{Scenario: "phone_call.xml", NS: NSLan, IP: PhoneIP, Port: 5060,
		Remote: EdgeOutIP + ":5060", Service: "callee", Calls: 20, Rate: 2, Hold: time.Second})

	MustSucceed(t, phone, 120*time.Second)
	MustSucceed(t, callee, 30*time.Second)
	for range 20 {
		n.Log.Await(t, 30*time.Second, "call ended", map[string]string{"reason": "bye-from-a"})
	}
	out := l.inNS(t, NSNAT, "iptables", "-L", "FORWARD", "-v", "-x", "-n")
	dropped := sumDropCounters(out)
	if dropped == 0 {
		t.Fatalf("the lossy link dropped nothing:\n%s", out)
	}
	t.Logf("20 of 20 calls set up and ended with BYE through a link that dropped %d packets", dropped)
	n.AssertNoCrash(t)
}

// sumDropCounters adds the packet counters of the DROP rules in
// `iptables -L CHAIN -v -x -n` output.
func sumDropCounters(out string) int {
	sum := 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && f[2] == "DROP" {
			n, _ := strconv.Atoi(f[0])
			sum += n
		}
	}
	return sum
}
