//go:build linux

package natlab

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// restartConfig: NATed phones are granted 300 s, so none refreshes (150 s)
// while the scenario runs: a call that reaches a UDP phone after the
// restart reached it through the restored binding, not a fresh one.
const restartConfig = BaseConfig + registrarPeer + "registrations:\n  nat_expires: 300s\n"

// PublicPhoneIP is a phone on the public side with no NAT in its way:
// the NAT router's second public address, which it does not masquerade.
const PublicPhoneIP = "203.0.113.2"

// addPublicPhone gives the NAT namespace PublicPhoneIP, exempt from the
// masquerading that every other packet leaving it gets.
func addPublicPhone(t *testing.T, l *Lab) {
	t.Helper()
	l.inNS(t, NSNAT, "ip", "addr", "add", PublicPhoneIP+"/24", "dev", "wan0")
	l.inNS(t, NSNAT, "iptables", "-t", "nat", "-I", "POSTROUTING", "-s", PublicPhoneIP, "-j", "RETURN")
}

// restartPhone is one of TestRestartKeepsBindings' phones.
type restartPhone struct {
	user string
	tcp  bool
	ns   string
	ip   string
	port int
}

func (p restartPhone) sipp() Sipp {
	s := registeredPhone(p.user, time.Second)
	s.NS, s.IP, s.Port, s.TCP = p.ns, p.ip, p.port, p.tcp
	return s
}

// restartPhones are 20 phones: UDP and TCP, behind the NAT (the lan) and
// public (on the NAT's public side, no NAT in their way), five of each.
func restartPhones() []restartPhone {
	var out []restartPhone
	for _, g := range []struct {
		name   string
		tcp    bool
		ns, ip string
		port   int
	}{
		{"udpnat", false, NSLan, PhoneIP, 5061},
		{"udppub", false, NSNAT, PublicPhoneIP, 5061},
		{"tcpnat", true, NSLan, PhoneIP, 5071},
		{"tcppub", true, NSNAT, PublicPhoneIP, 5071},
	} {
		for i := range 5 {
			out = append(out, restartPhone{user: fmt.Sprintf("%s%d", g.name, i+1), tcp: g.tcp, ns: g.ns, ip: g.ip, port: g.port + i})
		}
	}
	return out
}

// TestRestartKeepsBindings (restart scenario): 20 phones register through
// natsbc to the Kamailio registrar; natsbc is killed with SIGKILL and
// started again on the same state file. Every UDP phone is called through
// Kamailio at once and answers, without having registered again: its
// binding came back from the file, with the same token, socket and NAT
// pinhole. Every TCP phone's connection died with natsbc: calls to it get
// 480 from natsbc until the phone registers again on a new connection,
// then it answers.
func TestRestartKeepsBindings(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	addPublicPhone(t, l)
	reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{})
	n := l.StartNatsbc(t, restartConfig)
	phones := restartPhones()
	procs := map[string]*Proc{}
	for _, p := range phones {
		procs[p.user] = l.StartSipp(t, p.user, p.sipp())
	}
	tokens := map[string]string{}
	for _, p := range phones {
		b := awaitBinding(t, n, p.user, 20*time.Second)
		tokens[p.user] = b.Str("token")
		wantNAT := "no NAT"
		if p.ns == NSLan {
			wantNAT = "NAT"
		}
		if b.Str("nat") != wantNAT {
			t.Errorf("%s registered with verdict %q, want %q: %s", p.user, b.Str("nat"), wantNAT, b.Raw)
		}
	}
	for _, p := range phones {
		assertPublicContacts(t, reg.AwaitContacts(t, p.user, 5*time.Second))
	}

	// The binding is on disk before the 200: SIGKILL right after the last
	// one leaves natsbc no chance to write anything more.
	if err := n.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-n.Done()
	killedAt := time.Now()
	n2 := l.RestartNatsbc(t, "natsbc-restarted", restartConfig)
	loaded := n2.Log.Await(t, 5*time.Second, "bindings loaded from the state file", nil)
	if loaded.Str("loaded") != "20" || loaded.Str("awaiting_tcp_reconnect") != "10" {
		t.Errorf("after the restart: %s, want 20 loaded, 10 awaiting their TCP reconnect", loaded.Raw)
	}
	t.Logf("natsbc back %v after SIGKILL", loaded.At.Sub(killedAt).Round(time.Millisecond))

	// UDP phones: called at once, through the restored bindings.
	var callers []*Proc
	for i, p := range phones {
		if !p.tcp {
			callers = append(callers, l.StartSipp(t, "caller-"+p.user, callerOf(p.user, 5100+i, time.Second)))
		}
	}
	// TCP phones: 480 from natsbc, through Kamailio, within a second.
	for _, p := range phones {
		if p.tcp {
			assertInviteAnswered(t, l, p.user, 480)
		}
	}
	for _, c := range callers {
		MustSucceed(t, c, 30*time.Second)
	}
	for _, p := range phones {
		if !p.tcp {
			MustSucceed(t, procs[p.user], 10*time.Second)
		}
	}
	for _, e := range n2.Log.Entries() {
		if (e.Msg() == "binding registered" || e.Msg() == "binding refreshed") && strings.HasPrefix(aorUser(e.Str("aor")), "udp") {
			t.Errorf("a UDP phone registered again after the restart, so its call proves nothing: %s", e.Raw)
		}
	}

	// The TCP phones notice their connection is gone and register again
	// (a new sipp on the same address: same Contact, so the same binding
	// and token); then their calls are answered.
	callers = nil
	for i, p := range phones {
		if !p.tcp {
			continue
		}
		procs[p.user].Kill()
		procs[p.user] = l.StartSipp(t, p.user+"-again", p.sipp())
		e, ok := n2.Log.WaitFunc(20*time.Second, func(e LogEntry) bool {
			return e.Msg() == "binding refreshed" && aorUser(e.Str("aor")) == p.user
		})
		if !ok {
			t.Fatalf("%s registered again but natsbc logged no refresh of its restored binding", p.user)
		}
		if e.Str("token") != tokens[p.user] {
			t.Errorf("%s: token %s after registering again, was %s", p.user, e.Str("token"), tokens[p.user])
		}
		callers = append(callers, l.StartSipp(t, "caller-"+p.user, callerOf(p.user, 5100+i, time.Second)))
	}
	for _, c := range callers {
		MustSucceed(t, c, 30*time.Second)
	}
	for _, p := range phones {
		if p.tcp {
			MustSucceed(t, procs[p.user], 10*time.Second)
		}
	}
	if got := len(n2.Log.Find("call answered", nil)); got != len(phones) {
		t.Errorf("natsbc answered %d calls after the restart, want %d", got, len(phones))
	}
	reg.AssertNeverReceived(t, "192.168.")
	n2.AssertNoCrash(t)
}

// assertInviteAnswered sends an INVITE for user's AoR to the registrar and
// wants want within a second.
func assertInviteAnswered(t *testing.T, l *Lab, user string, want int) {
	t.Helper()
	conn := l.DialUDP(t, NSPBX, PBXIP+":5060")
	res := ProbeInvite(conn, "sip:"+user+"@"+PBXIP, 5*time.Second)
	if res.Status != want || res.Took > time.Second {
		t.Errorf("INVITE to %s through the registrar: %d (all %v) in %v, want %d within 1s", user, res.Status, res.Codes, res.Took, want)
	}
}

// TestCorruptStateFile: natsbc refuses to start on a corrupt state file,
// with exit code 2 and one line naming the file and the problem, and
// leaves the file alone; with --reset-state it moves the file aside and
// starts.
func TestCorruptStateFile(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	path := l.StateFile()
	garbage := []byte(strings.Repeat("this is not a bbolt file\n", 500))
	if err := os.WriteFile(path, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := l.writeNatsbcConfig(t, BaseConfig)
	p := l.Start(t, NSEdge, "natsbc-corrupt", natsbcBin, "--config", cfg, "--state-file", path)
	err := p.Wait(15 * time.Second)
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.ExitStatus() != 2 {
		t.Fatalf("natsbc on a corrupt state file: %v, want exit code 2 (log %s)", err, p.LogPath)
	}
	var lines []string
	for _, line := range strings.Split(p.Log(), "\n") {
		if strings.HasPrefix(line, "natsbc: ") {
			lines = append(lines, line)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "state file "+path+": corrupt") {
		t.Fatalf("want one line naming %s and \"corrupt\", got:\n%s", path, p.Log())
	}
	t.Logf("start-up error: %s", lines[0])
	if got, _ := os.ReadFile(path); string(got) != string(garbage) {
		t.Errorf("natsbc changed the corrupt file without --reset-state")
	}

	n := l.StartNatsbc(t, BaseConfig, "--reset-state")
	moved := n.Log.Await(t, 5*time.Second, "state file unreadable: moved aside, starting with no registrations", nil)
	aside, _ := filepath.Glob(path + ".corrupt-*")
	if len(aside) != 1 || aside[0] != moved.Str("moved_to") {
		t.Fatalf("files moved aside: %v, natsbc says %q", aside, moved.Str("moved_to"))
	}
	if got, _ := os.ReadFile(aside[0]); string(got) != string(garbage) {
		t.Errorf("%s is not the corrupt file as it was", aside[0])
	}
	n.Log.Await(t, 5*time.Second, "bindings loaded from the state file", map[string]string{"loaded": "0"})
	n.AssertNoCrash(t)
}
