//go:build linux

package natlab

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Hold is how long answered calls stay up in the scenarios: longer than
// the NAT's 20 s UDP timeout, so the phone's mapping is gone before its BYE.
const Hold = 40 * time.Second

// Sipp describes one sipp run (one call, -m 1, unless Calls says more).
type Sipp struct {
	Scenario string // file name under scenarios/
	NS       string // lab namespace role
	IP       string // local address (-i, -bind_local)
	Port     int    // local SIP port (-p)
	TCP      bool   // -t t1 instead of -t u1
	Remote   string // host:port to call; empty for a server (UAS) run
	Service  string // user part of the Request-URI (-s)
	Hold     time.Duration
	// Keys are extra [name] keywords for the scenario (-key name value).
	Keys map[string]string
	// OOC is the out-of-call scenario file under scenarios/ (-oocsf): what
	// a client run does with requests that belong to none of its calls.
	OOC string
	// Calls is -m (default 1); with Calls > 1, Rate is -r (calls per
	// second) and every call gets its own socket (-t un) when PerCallSocket.
	Calls         int
	Rate          int
	PerCallSocket bool
	// Timeout is sipp's global -timeout (default 150 s); past it the run fails.
	Timeout time.Duration
	// NoMessageTrace leaves out -trace_msg: a thousand phones would write
	// hundreds of MB of it.
	NoMessageTrace bool
	// Args are appended as they are (-au/-ap credentials, -set name value).
	Args []string
}

// StartSipp runs sipp; its exit code is 0 only when the call succeeded.
// For a server run it waits until the SIP port is bound.
func (l *Lab) StartSipp(t *testing.T, name string, s Sipp) *Proc {
	t.Helper()
	scen, err := filepath.Abs(filepath.Join("scenarios", s.Scenario))
	if err != nil {
		t.Fatal(err)
	}
	transport := "u1"
	switch {
	case s.TCP:
		transport = "t1"
	case s.PerCallSocket:
		transport = "un"
	}
	hold := s.Hold
	if hold == 0 {
		hold = Hold
	}
	calls := max(s.Calls, 1)
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 150 * time.Second
	}
	argv := []string{"sipp", "-sf", scen,
		"-i", s.IP, "-p", strconv.Itoa(s.Port), "-bind_local",
		"-t", transport, "-m", strconv.Itoa(calls), "-nostdin",
		// In-dialog OPTIONS/INFO/UPDATE keepalives are answered 200; an
		// unexpected BYE still fails the call.
		"-aa",
		"-d", strconv.Itoa(int(hold / time.Millisecond)),
		"-timeout", strconv.Itoa(int(timeout/time.Second)) + "s", "-timeout_error",
		"-trace_err", "-error_file", filepath.Join(l.Dir, name+"_errors.log"),
		"-trace_logs", "-log_file", filepath.Join(l.Dir, name+"_actions.log"),
		"-trace_screen", "-screen_file", filepath.Join(l.Dir, name+"_screen.log"),
	}
	if !s.NoMessageTrace {
		argv = append(argv, "-trace_msg", "-message_file", filepath.Join(l.Dir, name+"_messages.log"))
	}
	if s.OOC != "" {
		ooc, err := filepath.Abs(filepath.Join("scenarios", s.OOC))
		if err != nil {
			t.Fatal(err)
		}
		// sipp remembers ended calls for 33 s and drops whatever arrives
		// for them: a retransmitted OPTIONS whose 200 was lost would go
		// unanswered, where a phone's server transaction answers it again.
		argv = append(argv, "-oocsf", ooc, "-deadcall_wait", "0")
	}
	if calls > 1 {
		// Every call stays up for the whole run: no concurrency cap below
		// the call count, and sockets for all of them (sipp's default
		// -max_socket 50000 exceeds the usual open-file limit and aborts).
		argv = append(argv, "-r", strconv.Itoa(max(s.Rate, 1)), "-l", strconv.Itoa(calls),
			"-max_socket", strconv.Itoa(calls+100))
	}
	argv = append(argv, s.Args...)
	if s.Service != "" {
		argv = append(argv, "-s", s.Service)
	}
	for k, v := range s.Keys {
		argv = append(argv, "-key", k, v)
	}
	if s.Remote != "" {
		argv = append(argv, s.Remote)
	}
	p := l.Start(t, s.NS, name, argv...)
	if s.Remote == "" {
		proto := "udp"
		if s.TCP {
			proto = "tcp"
		}
		l.WaitListening(t, s.NS, proto, s.IP, s.Port, p)
	}
	return p
}

// startBound bounds how long a lab peer (sipp, rtpeer, tshark, linphonec)
// may take to come up: a bound for a hang, not a wait. The lab starts
// 16 scenarios' peers at once, and on a loaded 2-core machine that has
// taken over 15 s.
const startBound = 30 * time.Second

// WaitListening polls ss inside the namespace until ip:port is bound, p
// exits, or startBound passes (a bound for a hang: with the whole lab starting at
// once on two cores, a process can take over 10 s to bind). A bounded poll
// on an observable condition: sipp and Kamailio announce nothing when
// their socket is ready.
func (l *Lab) WaitListening(t *testing.T, ns, proto, ip string, port int, p *Proc) {
	t.Helper()
	flag := "-Hlun"
	if proto == "tcp" {
		flag = "-Hltn"
	}
	want := fmt.Sprintf("%s:%d", ip, port)
	wait := startBound
	deadline := time.Now().Add(wait)
	for {
		out, err := exec.Command("ip", "netns", "exec", l.NS(ns), "ss", flag).CombinedOutput()
		if err != nil {
			t.Fatalf("ss in %s: %v\n%s", ns, err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) >= 4 && f[3] == want {
				return
			}
		}
		select {
		case <-p.Done():
			t.Fatalf("%s exited before listening on %s/%s: %v", p.Name, proto, want, p.Wait(0))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: nothing listening on %s/%s in %s after %v", p.Name, proto, want, ns, wait)
		}
	}
}

// mustSucceedFloor is the least MustSucceed waits for a sipp run to end.
const mustSucceedFloor = 30 * time.Second

// MustSucceed waits for a sipp run and fails the test if the call failed.
// timeout bounds a hang, never a speed: a sipp run whose last message
// is done can take seconds to exit on a loaded machine, so it is at least
// mustSucceedFloor. What a scenario must do in time, it checks itself.
func MustSucceed(t *testing.T, p *Proc, timeout time.Duration) {
	t.Helper()
	if err := p.Wait(max(timeout, mustSucceedFloor)); err != nil {
		t.Errorf("sipp %s failed: %v", p.Name, err)
	}
}
