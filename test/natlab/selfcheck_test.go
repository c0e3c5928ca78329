//go:build linux

package natlab

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// These tests prove the lab itself, without natsbc: sipp talks to sipp
// through the NAT, with the "callee" standing where natsbc would listen.

// TestLabIsolation checks the routing the scenarios rely on: the phone
// cannot reach the inside network and the inside cannot reach the public
// side, so any call that works went through natsbc.
func TestLabIsolation(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	// No route at all: packets die where the route ends.
	for _, c := range []struct{ ns, dst string }{
		{NSNAT, PBXIP},       // the phone's only way out knows no inside route
		{NSPBX, NATPublicIP}, // the inside has no route to the public side
		{NSPBX, PhoneIP},
		{NSEdge, PhoneIP}, // natsbc only ever sees the NAT's public address
	} {
		out, err := exec.Command("ip", "-n", l.NS(c.ns), "route", "get", c.dst).CombinedOutput()
		if err == nil {
			t.Errorf("%s has a route to %s: %s", c.ns, c.dst, out)
		}
	}
	got := strings.TrimSpace(l.inNS(t, NSNAT, "sysctl", "-n", "net.netfilter.nf_conntrack_udp_timeout"))
	if got != "20" {
		t.Errorf("nat namespace conntrack udp timeout = %s, want 20", got)
	}
}

// TestLabCallThroughNAT: a phone call through the NAT to a sipp UAS at
// natsbc's outside address, with the NAT's mapping visible in conntrack.
// (The hold is short: sipp as UAS answers the BYE to the INVITE's source,
// a mapping that a hold longer than the 20 s UDP timeout loses.)
func TestLabCallThroughNAT(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	callee := l.StartSipp(t, "callee", Sipp{Scenario: "callee.xml", NS: NSEdge, IP: EdgeOutIP, Port: 5060})
	phone := l.StartSipp(t, "phone", Sipp{Scenario: "phone_call.xml", NS: NSLan, IP: PhoneIP, Port: 5060,
		Remote: EdgeOutIP + ":5060", Service: "callee", Hold: 2 * time.Second})
	// While the call is up the NAT holds a masquerading entry for it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, _ := exec.Command("ip", "netns", "exec", l.NS(NSNAT), "conntrack", "-L", "-p", "udp").CombinedOutput()
		if strings.Contains(string(out), "dst="+NATPublicIP) && strings.Contains(string(out), "src="+PhoneIP) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no NAT mapping for the phone in conntrack:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	MustSucceed(t, phone, 60*time.Second)
	MustSucceed(t, callee, 10*time.Second)
}

// TestLabScenarioPairs runs the other scenario pairs against each other
// through the NAT so their SIP is known good before natsbc is in between.
func TestLabScenarioPairs(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, phone, callee string }{
		{"cancel", "phone_cancel.xml", "callee_cancel.xml"},
		{"reinvite", "phone_reinvite.xml", "callee_reinvite.xml"},
		{"carrier", "phone_call.xml", "carrier.xml"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			l := NewLab(t)
			callee := l.StartSipp(t, "callee", Sipp{Scenario: c.callee, NS: NSEdge, IP: EdgeOutIP, Port: 5060})
			phone := l.StartSipp(t, "phone", Sipp{Scenario: c.phone, NS: NSLan, IP: PhoneIP, Port: 5060,
				Remote: EdgeOutIP + ":5060", Service: "callee", Hold: time.Second})
			MustSucceed(t, phone, 30*time.Second)
			MustSucceed(t, callee, 10*time.Second)
		})
	}
}
