//go:build linux

package natlab

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestNoAmplification (issue 12, item 7): a host sends 50 unauthenticated
// INVITEs (5 a second, under the rate limit, an ordinary User-Agent) and
// sends nothing else (sipp -nd: no ACK, no CANCEL), as whoever a forged
// source address belongs to would not. The PBX (Kamailio) challenges each
// with 407; natsbc's INVITE transactions would retransmit each 407 until
// Timer H, a dozen datagrams for each INVITE. Since the source never proved
// it receives what is sent to its address, natsbc sends it no more bytes
// than it sent, plus security.unproven_credit (16 KiB) and 1 KiB a second.
// The counts come from iptables counters on the sender's own host.
func TestNoAmplification(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	l.AddScannerHost(t)
	l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{Password: "s3cret", ChallengeInvite: true})
	n := l.StartNatsbc(t, BaseConfig+"admin:\n  listen: "+adminAddr+"\n"+registrarPeer)
	l.inNS(t, NSScan, "iptables", "-A", "OUTPUT", "-d", EdgeOutIP, "-p", "udp")
	l.inNS(t, NSScan, "iptables", "-A", "INPUT", "-s", EdgeOutIP, "-p", "udp")

	const invites = 50
	start := time.Now()
	sender := l.StartSipp(t, "sender", Sipp{Scenario: "flood_invite.xml", NS: NSScan, IP: ScannerIP, Port: 5060,
		Remote: EdgeOutIP + ":5060", Service: "alice", Calls: invites, Rate: 5, Timeout: 30 * time.Second,
		Args: []string{"-nd"}})
	_ = sender.Wait(60 * time.Second) // its calls end after 100 ms, whatever came back
	// natsbc's INVITE server transactions end at Timer H (64*T1 = 32 s):
	// until then they could still retransmit.
	deadline := time.Now().Add(60 * time.Second)
	for countTxEnded(n, ScannerIP) < invites {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of natsbc's %d INVITE transactions with the sender ended", countTxEnded(n, ScannerIP), invites)
		}
		time.Sleep(200 * time.Millisecond)
	}
	elapsed := time.Since(start)
	out := l.inNS(t, NSScan, "iptables", "-L", "OUTPUT", "-v", "-x", "-n")
	in := l.inNS(t, NSScan, "iptables", "-L", "INPUT", "-v", "-x", "-n")
	sentPkts, sent := firstRuleCounters(t, out)
	gotPkts, got := firstRuleCounters(t, in)
	// The counters count IP bytes, natsbc the SIP payload: 28 bytes of
	// IPv4 and UDP headers per datagram.
	allowed := sent - 28*sentPkts + 16384 + 1024*int(elapsed.Seconds()+1) + 28*gotPkts
	if sentPkts != invites {
		t.Fatalf("the sender sent %d datagrams, want its %d INVITEs and nothing else", sentPkts, invites)
	}
	if got > allowed {
		t.Errorf("natsbc sent the unproven source %d bytes for its %d: more than %d (what it sent, the credit and 1 KiB a second)", got, sent, allowed)
	}
	dropped := metric(t, l, "natsbc_unproven_dropped_total")
	if dropped == 0 {
		t.Error("natsbc held nothing back: the 407 retransmissions were not bounded")
	}
	t.Logf("the unproven source sent %d datagrams (%d bytes) and got %d (%d bytes) back in %v; natsbc held back %v datagrams",
		sentPkts, sent, gotPkts, got, elapsed.Round(time.Second), dropped)
	n.AssertNoCrash(t)
}

// countTxEnded counts sipgo's "Server transaction destroyed" lines of
// INVITE transactions from ip.
func countTxEnded(n *Natsbc, ip string) int {
	c := 0
	for _, e := range n.Log.Find("Server transaction destroyed", nil) {
		if tx := e.Str("tx"); strings.Contains(tx, "__"+ip+"__") && strings.HasSuffix(tx, "__INVITE") {
			c++
		}
	}
	return c
}

// firstRuleCounters reads the packet and byte counters of the first rule
// in `iptables -L CHAIN -v -x -n` output.
func firstRuleCounters(t *testing.T, out string) (pkts, bytes int) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 3 {
		t.Fatalf("no rule in:\n%s", out)
	}
	if _, err := fmt.Sscan(lines[2], &pkts, &bytes); err != nil {
		t.Fatalf("rule counters of %q: %v", lines[2], err)
	}
	return pkts, bytes
}
